"""SaleorApi against the fake Saleor over HTTP: validation, typed results, retries, refusals."""

from __future__ import annotations

import logging

import httpx
import pytest
from gql import GraphQLRequest
from graphql import GraphQLError

from relance.plugin.saleor.client import APP_ID, RetryPolicy, SaleorApi
from relance.plugin.saleor.discounts import CHANNELS, VOUCHERS_BY_CODE
from relance.plugin.saleor.documents import Document, SaleorModel
from relance.plugin.saleor.errors import (
    SaleorPermissionDenied,
    SaleorQueryError,
    SaleorTokenRefused,
    SaleorUnreachable,
    UnexpectedAnswer,
)
from tests.fixtures.saleor import FakeSaleor


def api_for(fake: FakeSaleor, sleeps: list[float], **options: object) -> SaleorApi:
    """A client for ``fake`` that records its waits instead of sleeping."""
    return SaleorApi(
        fake.api_url,
        fake.valid_token,
        sleep=sleeps.append,
        jitter=lambda: 0.5,
        **options,  # type: ignore[arg-type]
    )


class _Nothing(SaleorModel):
    pass


def test_an_invalid_document_fails_locally_without_any_request(fake_saleor: FakeSaleor) -> None:
    # given a document Saleor's schema does not allow
    text = "query Broken { app { id noSuchField } }"
    broken = Document("Broken", text, _Nothing, GraphQLRequest(text, operation_name="Broken"))
    # when it is executed, then it is refused before anything is sent
    with api_for(fake_saleor, []) as api, pytest.raises(GraphQLError, match="noSuchField"):
        api.execute(broken)
    assert fake_saleor.requests == []


def test_results_are_parsed_into_the_documents_model(fake_saleor: FakeSaleor) -> None:
    with api_for(fake_saleor, []) as api:
        result = api.execute(CHANNELS)
    assert result.channels is not None
    by_slug = {channel.slug: channel for channel in result.channels}
    assert by_slug["boutique-fr"].currency_code == "EUR"
    assert by_slug["archive"].is_active is False
    # the token went as a bearer token, and the operation by name
    [request] = fake_saleor.requests_to("/graphql/")
    assert request.headers["Authorization"] == f"Bearer {fake_saleor.valid_token}"
    assert fake_saleor.operations() == ["Channels"]


def test_5xx_answers_are_retried_with_growing_waits(fake_saleor: FakeSaleor) -> None:
    # given Saleor answers 503 then 500 (with a JSON error body: the status must win), then works
    fake_saleor.fail_next(503, 500)
    sleeps: list[float] = []
    # when the app id is asked
    with api_for(fake_saleor, sleeps) as api:
        app_id = api.app_id()
    # then it came on the third attempt, after two growing waits
    assert app_id == fake_saleor.app_id
    assert fake_saleor.operations() == ["AppId", "AppId", "AppId"]
    assert sleeps == [0.375, 0.75]


def test_a_rate_limit_is_retried_after_the_time_it_asks_for() -> None:
    # given a proxy in front of Saleor that answers 429 with Retry-After once
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}, json={"errors": [{"message": "slow"}]}),
        httpx.Response(200, json={"data": {"app": {"id": "QXBwOjE="}}}),
    ]
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    sleeps: list[float] = []
    api = SaleorApi(
        "https://shop.example.com/graphql/",
        "token",
        sleep=sleeps.append,
        jitter=lambda: 0.0,
        transport=httpx.MockTransport(handler),
    )
    # when the app id is asked, then it comes after waiting what the proxy asked
    with api:
        assert api.app_id() == "QXBwOjE="
    assert sleeps == [3.0]
    assert len(sent) == 2


def test_retries_are_bounded(fake_saleor: FakeSaleor) -> None:
    fake_saleor.fail_next(503, 503, 503, 503, 503)
    sleeps: list[float] = []
    with api_for(fake_saleor, sleeps) as api, pytest.raises(SaleorUnreachable) as caught:
        api.execute(CHANNELS)
    assert caught.value.transient
    assert "HTTP 503" in str(caught.value)
    assert len(fake_saleor.operations()) == 4  # DEFAULT_RETRY.attempts
    assert len(sleeps) == 3


def test_network_errors_are_retried(fake_saleor: FakeSaleor) -> None:
    # given the first connection is closed without an answer
    fake_saleor.fail_next(0)
    sleeps: list[float] = []
    with api_for(fake_saleor, sleeps) as api:
        assert api.app_id() == fake_saleor.app_id
    assert len(sleeps) == 1


def test_timeouts_are_retried(fake_saleor: FakeSaleor) -> None:
    # given Saleor takes longer than the timeout to answer the first request
    fake_saleor.hang_next(1.0)
    sleeps: list[float] = []
    with api_for(fake_saleor, sleeps, timeout=0.3) as api:
        assert api.app_id() == fake_saleor.app_id
    assert len(sleeps) == 1
    assert len(fake_saleor.operations()) == 2


def test_an_unreachable_saleor_gives_up_after_the_attempts() -> None:
    sleeps: list[float] = []
    api = SaleorApi("http://127.0.0.1:1/graphql/", "t", sleep=sleeps.append, timeout=2)
    with api, pytest.raises(SaleorUnreachable, match="ConnectError"):
        api.execute(CHANNELS)
    assert len(sleeps) == 3


@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_mean_the_token_is_refused_and_are_not_retried(
    fake_saleor: FakeSaleor, status: int
) -> None:
    fake_saleor.refuse_token_with = status
    sleeps: list[float] = []
    with api_for(fake_saleor, sleeps) as api, pytest.raises(SaleorTokenRefused) as caught:
        api.execute(CHANNELS)
    assert not caught.value.transient
    assert sleeps == []
    assert len(fake_saleor.operations()) == 1
    assert fake_saleor.valid_token not in str(caught.value)


def test_other_4xx_answers_are_not_retried(fake_saleor: FakeSaleor) -> None:
    fake_saleor.fail_next(400)
    sleeps: list[float] = []
    with api_for(fake_saleor, sleeps) as api, pytest.raises(SaleorQueryError):
        api.execute(CHANNELS)
    assert sleeps == []
    assert len(fake_saleor.operations()) == 1


def test_a_forged_token_is_refused(fake_saleor: FakeSaleor) -> None:
    # given a token Saleor does not know: it answers PermissionDenied, like for anonymous calls
    sleeps: list[float] = []
    api = SaleorApi(fake_saleor.api_url, "forged-token", sleep=sleeps.append)
    # then the follow-up app-id probe confirms the token itself is refused
    with api, pytest.raises(SaleorTokenRefused):
        api.execute(CHANNELS)
    assert fake_saleor.operations() == ["Channels", "AppId"]
    assert sleeps == []


def test_a_missing_permission_is_not_a_refused_token(fake_saleor: FakeSaleor) -> None:
    # given the app was installed without MANAGE_DISCOUNTS
    fake_saleor.shop.app_permissions.discard("MANAGE_DISCOUNTS")
    # when it lists vouchers, then the token still works: a permission error, not a disconnection
    with api_for(fake_saleor, []) as api, pytest.raises(SaleorPermissionDenied) as caught:
        api.execute(VOUCHERS_BY_CODE, {"code": "X"})
    assert "MANAGE_DISCOUNTS" in str(caught.value)
    assert not isinstance(caught.value, SaleorTokenRefused)
    assert fake_saleor.operations() == ["VouchersByCode", "AppId"]


class _NamedApp(SaleorModel):
    id: str
    name: str


class _NeedsName(SaleorModel):
    app: _NamedApp


def test_an_answer_that_does_not_fit_the_model_is_unexpected(fake_saleor: FakeSaleor) -> None:
    # given a model that wants a field the document does not ask for
    wrong = Document("AppId", APP_ID.text, _NeedsName, APP_ID.request)
    with api_for(fake_saleor, []) as api, pytest.raises(UnexpectedAnswer) as caught:
        api.execute(wrong)
    # then the message says where, without the values
    assert "app.name" in str(caught.value)
    assert fake_saleor.app_id not in str(caught.value)


def test_a_url_that_is_not_graphql_is_unexpected(fake_saleor: FakeSaleor) -> None:
    api = SaleorApi(f"http://{fake_saleor.domain}/not-graphql/", fake_saleor.valid_token)
    with api, pytest.raises(UnexpectedAnswer, match="404"):
        api.execute(CHANNELS)


def test_retries_log_neither_the_token_nor_the_variables(
    fake_saleor: FakeSaleor, caplog: pytest.LogCaptureFixture
) -> None:
    fake_saleor.fail_next(503)
    with caplog.at_level(logging.DEBUG), api_for(fake_saleor, []) as api:
        api.execute(VOUCHERS_BY_CODE, {"code": "SECRET-CODE-42"})
    assert "VouchersByCode" in caplog.text
    assert fake_saleor.valid_token not in caplog.text
    assert "SECRET-CODE-42" not in caplog.text


@pytest.mark.parametrize(
    ("retry", "jitter", "retry_after", "expected"),
    [
        (1, 0.0, None, 0.25),  # half of base_delay is fixed…
        (1, 0.5, None, 0.375),  # …the other half random
        (2, 0.0, None, 0.5),
        (3, 1.0, None, 2.0),
        (10, 1.0, None, 8.0),  # capped at max_delay
        (1, 0.0, 3.0, 3.0),  # a server's Retry-After is honoured…
        (1, 0.0, 120.0, 8.0),  # …up to max_delay
    ],
)
def test_backoff(retry: int, jitter: float, retry_after: float | None, expected: float) -> None:
    assert RetryPolicy().delay(retry, jitter, retry_after) == pytest.approx(expected)
