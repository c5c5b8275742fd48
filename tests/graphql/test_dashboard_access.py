"""Saleor Dashboard tokens on /graphql: headers as app-sdk's fetch sends them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import StoreStatus
from relance.store.repositories.stores import get_store
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.dashboard import (
    APP_ID,
    JwksServer,
    SigningKey,
    dashboard_claims,
    jwks,
    serve_jwks,
)
from tests.graphql.helpers import Api, bearer, error_codes, install_store

KEY = SigningKey("saleor-key-1")
ROTATED = SigningKey("saleor-key-2")


@pytest.fixture
def saleor() -> Iterator[JwksServer]:
    """A local Saleor origin serving its JWKS (the current key: KEY)."""
    with serve_jwks(jwks(KEY)) as server:
        yield server


@pytest.fixture
def store_id(runtime: Runtime, saleor: JwksServer, clock: Clock) -> UUID:
    """A store installed an hour ago from the local Saleor, with KEY in its saved JWKS."""
    return install_store(
        runtime, saleor.api_url, app_id=APP_ID, jwks=jwks(KEY), at=clock.now - timedelta(hours=1)
    )


def dashboard(
    saleor: JwksServer, clock: Clock, key: SigningKey = KEY, **claims: Any
) -> dict[str, str]:
    """The headers the admin page sends from inside the Dashboard."""
    token = key.sign(dashboard_claims(api_url=saleor.api_url, now=clock.now, **claims))
    return {"authorization-bearer": token, "saleor-api-url": saleor.api_url}


def test_a_valid_dashboard_token_can_read_and_write(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given a token of a staff user with MANAGE_USERS
    headers = dashboard(saleor, clock)
    # when they read their store and create and publish a campaign
    me = api(documents.ME, headers=headers)
    created = api(documents.CREATE, {"key": "post_purchase"}, headers)
    campaign = created["data"]["campaignCreateFromTemplate"]["campaign"]
    published = api(documents.PUBLISH, {"id": campaign["id"]}, headers)
    # then everything works, for the store named by saleor-api-url
    assert me["data"]["me"]["id"] == str(store_id)
    assert published["data"]["campaignPublish"]["campaign"]["status"] == "ACTIVE"
    assert saleor.hits == 0


def test_header_names_are_case_insensitive(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    headers = {name.title(): value for name, value in dashboard(saleor, clock).items()}
    assert api(documents.ME, headers=headers)["data"]["me"]["id"] == str(store_id)


def test_an_expired_dashboard_token_is_refused(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given a token issued 6 minutes ago (Saleor's last 5)
    headers = dashboard(saleor, clock)
    clock.advance(minutes=6)
    # then it no longer opens anything
    assert error_codes(api(documents.CAMPAIGNS, headers=headers)) == ["UNAUTHENTICATED"]


def test_a_token_made_for_another_app_is_refused(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    headers = dashboard(saleor, clock, app="QXBwOjk5OQ==")
    assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]


def test_without_manage_users_queries_work_but_mutations_are_forbidden(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given a staff user who may manage orders but not customers
    headers = dashboard(saleor, clock, user_permissions=("MANAGE_ORDERS",))
    # when they list campaigns, then they may
    assert api(documents.CAMPAIGNS, headers=headers) == {"data": {"campaigns": []}}
    # when they run any mutation, then it is FORBIDDEN and nothing is created
    for name, (document, variables) in documents.MUTATIONS.items():
        body = api(document, variables, headers)
        assert error_codes(body) == ["FORBIDDEN"], name
        assert body["data"] is None
    assert api(documents.CAMPAIGNS, headers=headers) == {"data": {"campaigns": []}}


def test_a_rotated_key_is_fetched_once_from_the_stores_jwks(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given Saleor rotated its key: it now serves only ROTATED, relance saved only KEY
    saleor.document = jwks(ROTATED)
    headers = dashboard(saleor, clock, key=ROTATED)
    # when the Dashboard sends a token signed with the new key
    body = api(documents.ME, headers=headers)
    # then relance fetched the JWKS once, accepted the token and saved the new keys
    assert body["data"]["me"]["id"] == str(store_id)
    assert saleor.hits == 1
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        assert store.jwks == jwks(ROTATED)
        assert store.jwks_fetched_at == clock.now
    # and later requests use the saved keys without fetching again
    assert api(documents.ME, headers=headers)["data"]["me"]["id"] == str(store_id)
    assert saleor.hits == 1


def test_unknown_key_ids_cannot_make_relance_hammer_saleor(
    api: Api, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given tokens signed by a key Saleor does not have (forged)
    forger = SigningKey("forged")
    # when several arrive in a row
    for _ in range(3):
        body = api(documents.ME, headers=dashboard(saleor, clock, key=forger))
        # then each is refused
        assert error_codes(body) == ["UNAUTHENTICATED"]
    # and the JWKS was fetched once, not once per request
    assert saleor.hits == 1
    # until the refetch interval has passed
    clock.advance(seconds=31)
    api(documents.ME, headers=dashboard(saleor, clock, key=forger))
    assert saleor.hits == 2


def test_an_unusable_jwks_refuses_the_token(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given Saleor's JWKS endpoint answers garbage
    saleor.document = {"not": "a jwks"}
    headers = dashboard(saleor, clock, key=ROTATED)
    # then the token with an unknown kid is refused and the saved keys are kept
    assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]
    assert saleor.hits == 1
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        assert store.jwks == jwks(KEY)


def test_a_token_of_store_a_cannot_open_store_b(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given store B, another Saleor installation that trusts the same key but has another app id
    with serve_jwks(jwks(KEY)) as other:
        install_store(runtime, other.api_url, app_id="QXBwOjc3", jwks=jwks(KEY))
        # when A's token is presented with B's API URL
        headers = dashboard(saleor, clock)
        headers["saleor-api-url"] = other.api_url
        # then it is refused (iss and app do not match B)
        assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]


def test_a_token_for_an_unknown_or_inactive_store_is_refused(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    headers = dashboard(saleor, clock)
    unknown = {**headers, "saleor-api-url": "https://nowhere.example.com/graphql/"}
    assert error_codes(api(documents.ME, headers=unknown)) == ["UNAUTHENTICATED"]
    missing = {"authorization-bearer": headers["authorization-bearer"]}
    assert error_codes(api(documents.ME, headers=missing)) == ["UNAUTHENTICATED"]
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        store.status = StoreStatus.DISCONNECTED
    assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]


def test_the_dashboard_header_alone_decides(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    # given a valid API token sent together with an expired Dashboard token
    headers = {**dashboard(saleor, clock), **bearer(runtime, store_id)}
    clock.advance(minutes=6)
    # then the Dashboard rule decides: refused
    assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]
