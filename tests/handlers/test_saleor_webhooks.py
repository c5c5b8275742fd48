"""``POST /api/webhooks/saleor``: deliveries signed by a (fake) Saleor, recorded in a real DB."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from relance.plugin.saleor import webhooks
from relance.runtime import Runtime
from relance.store.models import Event, Store, StoreStatus
from tests.fixtures.runtime import Clock, RecordingDispatcher
from tests.fixtures.saleor import (
    FakeSaleor,
    SaleorSigner,
    install_store,
    post_unsigned_webhook,
    post_webhook,
    saleor_app,
    sample_body,
    serve,
    unreachable_database_url,
)

MakeRuntime = Callable[..., Runtime]
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class Installed:
    runtime: Runtime
    store: Store
    client: httpx.Client
    fake: FakeSaleor

    def events(self) -> list[Event]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Event).where(Event.store_id == self.store.id)))

    def stored_jwks(self) -> dict[str, Any] | None:
        with self.runtime.sessions() as session:
            store = session.get(Store, self.store.id)
            assert store is not None
            return store.jwks

    @property
    def dispatched(self) -> list[Any]:
        dispatcher = self.runtime.dispatcher
        assert isinstance(dispatcher, RecordingDispatcher)
        return dispatcher.sent

    def jwks_fetches(self) -> int:
        return len(self.fake.requests_to(JWKS_PATH))


@pytest.fixture
def installed(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> Iterator[Installed]:
    """relance installed for ``fake_saleor`` (real handshake), with a client on its routes."""
    runtime = make_runtime(database_url)
    store = install_store(runtime, fake_saleor)
    with serve(saleor_app(runtime)) as client:
        yield Installed(runtime, store, client, fake_saleor)


def test_a_signed_order_is_recorded_and_dispatched(installed: Installed) -> None:
    # given Saleor's ORDER_CREATED body, signed with its key
    body = sample_body("order_created")
    # when it is delivered
    response = post_webhook(installed.client, installed.fake, "order_created", body)
    # then relance accepts it
    assert response.status_code == 200
    assert response.json() == {"accepted": True, "duplicate": False}
    # and one order.placed event is in the inbox, for that store
    [event] = installed.events()
    assert event.type == "order.placed"
    assert event.idempotency_key.startswith("order.placed:T3JkZXI6")
    assert event.payload["contact"]["language"] == "de"
    assert event.payload["order"]["total"] == "132.9"
    # and its id went to a worker
    assert installed.dispatched == [("process_event", event.id)]


def test_the_same_delivery_twice_is_recorded_once(installed: Installed) -> None:
    # given the same delivery sent twice (Saleor retries and duplicates)
    body = sample_body("order_created")
    first = post_webhook(installed.client, installed.fake, "order_created", body)
    second = post_webhook(installed.client, installed.fake, "order_created", body)
    # then both are acknowledged, the second as a duplicate
    assert first.status_code == second.status_code == 200
    assert first.json() == {"accepted": True, "duplicate": False}
    assert second.json() == {"accepted": True, "duplicate": True}
    # and there is one event, the only one ever dispatched
    [event] = installed.events()
    assert {event_id for _, event_id in installed.dispatched} == {event.id}


def test_a_tampered_body_is_refused(installed: Installed) -> None:
    # given a body changed after Saleor signed it
    body = sample_body("order_created")
    signature = installed.fake.signer.sign(body)
    tampered = body.replace(b"jonas.becker@example.de", b"attacker@example.com")
    # when delivered
    response = post_webhook(
        installed.client, installed.fake, "order_created", tampered, signature=signature
    )
    # then it is refused and nothing is recorded
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert installed.events() == []
    assert installed.dispatched == []


def test_an_unsigned_delivery_is_refused(installed: Installed) -> None:
    response = post_unsigned_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "MISSING_SIGNATURE"
    assert installed.events() == []


def test_a_delivery_from_a_store_that_is_not_installed_is_refused(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> None:
    # given relance was never installed in this Saleor
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        # when it delivers a correctly signed webhook
        response = post_webhook(client, fake_saleor, "order_created", sample_body("order_created"))
    # then it is refused (Saleor does not retry 4xx)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_STORE"


def test_a_delivery_to_an_uninstalled_store_is_refused(installed: Installed) -> None:
    # given the merchant uninstalled relance
    with installed.runtime.sessions() as session, session.begin():
        session.execute(
            update(Store)
            .where(Store.id == installed.store.id)
            .values(status=StoreStatus.UNINSTALLED)
        )
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 401
    assert installed.events() == []


def test_malformed_json_is_a_bad_request(installed: Installed) -> None:
    # given a correctly signed body that is not JSON
    response = post_webhook(installed.client, installed.fake, "order_created", b'{"order": ')
    # then it is refused with a message, and nothing is recorded
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PAYLOAD"
    assert "not JSON" in response.json()["error"]["message"]
    assert installed.events() == []


def test_a_payload_without_email_names_the_field(
    installed: Installed, caplog: pytest.LogCaptureFixture
) -> None:
    # given an order with no email anywhere
    body = (
        sample_body("order_created")
        .replace(b'"userEmail": "jonas.becker@example.de"', b'"userEmail": null')
        .replace(b'"email": "jonas.becker@example.de"', b'"email": null')
    )
    caplog.set_level(logging.DEBUG)
    # when delivered
    response = post_webhook(installed.client, installed.fake, "order_created", body)
    # then the 400 says which field is wrong
    assert response.status_code == 400
    assert "order.userEmail" in response.json()["error"]["message"]
    assert installed.events() == []
    # and nothing personal or secret was logged
    assert "Becker" not in caplog.text
    assert installed.fake.valid_token not in caplog.text


def test_an_event_relance_does_not_handle_is_acknowledged_and_ignored(installed: Installed) -> None:
    response = post_webhook(installed.client, installed.fake, "checkout_updated", b'{"x": 1}')
    assert response.status_code == 200
    assert response.json() == {"accepted": False, "reason": "ignored"}
    assert installed.events() == []


def test_a_delivery_without_saleor_headers_is_a_bad_request(installed: Installed) -> None:
    body = sample_body("order_created")
    response = installed.client.post(
        "/api/webhooks/saleor",
        content=body,
        headers={"Saleor-Signature": installed.fake.signer.sign(body)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MISSING_HEADER"


def test_deprecated_header_names_alone_are_understood(installed: Installed) -> None:
    # given an older Saleor sending only the X- names (and the API URL)
    body = sample_body("order_created")
    response = installed.client.post(
        "/api/webhooks/saleor",
        content=body,
        headers={
            "X-Saleor-Event": "order_created",
            "X-Saleor-Signature": installed.fake.signer.sign(body),
            "Saleor-Api-Url": installed.fake.api_url,
        },
    )
    assert response.status_code == 200
    assert response.json()["accepted"] is True


def test_a_rotated_key_is_fetched_once_and_the_delivery_accepted(installed: Installed) -> None:
    # given Saleor rotated its key (new kid) after relance was installed
    assert installed.jwks_fetches() == 1  # at install
    old_jwks = installed.stored_jwks()
    new_signer = installed.fake.rotate_key()
    # when the first delivery signed with the new key arrives
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    # then relance refetched the JWKS, verified, and accepted it
    assert response.status_code == 200
    assert response.json()["accepted"] is True
    assert installed.jwks_fetches() == 2
    # and the new keys are stored, so the next delivery needs no fetch
    assert installed.stored_jwks() == new_signer.jwks() != old_jwks
    body = sample_body("order_created").replace(b'"number": "10482"', b'"number": "10483"')
    assert post_webhook(installed.client, installed.fake, "order_created", body).status_code == 200
    assert installed.jwks_fetches() == 2


def test_a_key_replaced_under_the_same_kid_is_fetched_too(installed: Installed) -> None:
    # given Saleor replaced its key but kept the kid (Saleor versions with the constant kid "1")
    installed.fake.rotate_key(kid=installed.fake.signer.kid)
    # when a delivery signed with the new key arrives, then it is accepted after one refetch
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 200
    assert installed.jwks_fetches() == 2


def test_unknown_kids_refetch_at_most_once_a_minute(installed: Installed, clock: Clock) -> None:
    # given deliveries signed by a key Saleor never published (forged)
    forger = SaleorSigner()
    body = sample_body("order_created")
    # when several arrive within a minute
    responses = [
        post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
        for _ in range(3)
    ]
    clock.advance(seconds=59)
    responses.append(
        post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
    )
    # then the first is refused after one refetch; the others cannot be checked against fresh
    # keys yet, so they are deferred (503: a genuine delivery signed with a key rotated meanwhile
    # would be retried by Saleor), and Saleor's JWKS was fetched again only once
    assert [r.status_code for r in responses] == [401, 503, 503, 503]
    assert responses[1].json()["error"]["code"] == "SIGNATURE_NOT_VERIFIABLE_YET"
    assert responses[1].headers["Retry-After"] == "60"
    assert installed.jwks_fetches() == 2
    # and once the minute has passed, a refetch is allowed again
    clock.advance(seconds=2)
    post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
    assert installed.jwks_fetches() == 3
    assert installed.events() == []


def test_a_rotation_right_after_a_forgery_is_retried_not_lost(
    installed: Installed, clock: Clock
) -> None:
    # given a forged delivery just used up the refetch allowance
    forger = SaleorSigner()
    body = sample_body("order_created")
    forged = post_webhook(
        installed.client, installed.fake, "order_created", body, signature=forger.sign
    )
    assert forged.status_code == 401
    # when Saleor rotates its key and delivers a genuine order at once
    installed.fake.rotate_key()
    first = post_webhook(installed.client, installed.fake, "order_created", body)
    # then it is deferred (Saleor retries 5xx), not refused
    assert first.status_code == 503
    assert installed.events() == []
    # and Saleor's retry after the interval refetches the keys and is accepted
    clock.advance(seconds=61)
    retry = post_webhook(installed.client, installed.fake, "order_created", body)
    assert retry.status_code == 200
    assert len(installed.events()) == 1


def test_database_down_answers_503_so_saleor_retries(
    installed: Installed, make_runtime: MakeRuntime, database_url: str, tmp_path: Path
) -> None:
    # given relance's database becomes unreachable
    down = make_runtime(unreachable_database_url(database_url, tmp_path))
    body = sample_body("order_created")
    # when Saleor delivers
    with serve(saleor_app(down)) as client:
        response = post_webhook(client, installed.fake, "order_created", body)
    # then relance answers 503 (Saleor retries 5xx with back-off)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
    # and the retry, once the database is back, is recorded
    retried = post_webhook(installed.client, installed.fake, "order_created", body)
    assert retried.status_code == 200
    assert len(installed.events()) == 1


def test_database_lost_while_recording_answers_503(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the database goes away between the store lookup and the insert
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO events", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(webhooks, "accept_event", unreachable)
    # when a delivery arrives, then Saleor is told to retry
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 503
    assert installed.dispatched == []
