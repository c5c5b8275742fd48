"""Web Push over GraphQL, on both databases: the store's VAPID keys (``storePushSettings``), the
public ``pushPublicKey``, and storefront registration (``pushSubscribe`` / ``pushUnsubscribe``)
authorised by a Saleor customer's access JWT, verified against the store's JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import jwt
import pytest
from sqlalchemy import select

from relance.channels.webpush import (
    PushCredentials,
    PushOutcome,
    PushRequest,
    PushTarget,
    b64url_decode,
    generate_vapid_keys,
    public_key_of,
    read_push_settings,
)
from relance.runtime import Runtime
from relance.store.models import Contact, PushSubscription, Store, StoreStatus
from relance.store.repositories.stores import get_store
from tests.fixtures.push_service import Browser, PushService, customer_token, push_client_for
from tests.fixtures.runtime import Clock
from tests.graphql.dashboard import (
    APP_ID,
    JwksServer,
    SigningKey,
    dashboard_claims,
    jwks,
    serve_jwks,
)
from tests.graphql.helpers import Api, bearer, error_codes, fields_and_codes, install_store

KEY = SigningKey("saleor-key-push")
ROTATED = SigningKey("saleor-key-push-2")
SETTINGS = """
mutation($generate: Boolean!, $subject: String) {
  storePushSettings(generate: $generate, subject: $subject) {
    pushSettings { publicKey subject }
    removedSubscriptions
    errors { field code message }
  }
}
"""
PUBLIC_KEY = "query($url: String!) { pushPublicKey(storeApiUrl: $url) }"
SUBSCRIBE = """
mutation($url: String!, $token: String!, $subscription: PushSubscriptionInput!, $ua: String) {
  pushSubscribe(storeApiUrl: $url, token: $token, subscription: $subscription, userAgent: $ua) {
    ok errors { field code message }
  }
}
"""
UNSUBSCRIBE = """
mutation($url: String!, $token: String!, $endpoint: String!) {
  pushUnsubscribe(storeApiUrl: $url, token: $token, endpoint: $endpoint) {
    ok errors { field code message }
  }
}
"""


@pytest.fixture
def saleor() -> Iterator[JwksServer]:
    """The store's Saleor, publishing KEY (a test may publish ROTATED instead)."""
    with serve_jwks(jwks(KEY)) as server:
        yield server


@pytest.fixture
def store_id(runtime: Runtime, saleor: JwksServer, clock: Clock) -> UUID:
    return install_store(
        runtime, saleor.api_url, app_id=APP_ID, jwks=jwks(KEY), at=clock.now - timedelta(days=1)
    )


@pytest.fixture
def headers(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    return bearer(runtime, store_id)


def settings(api: Api, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
    body = api(SETTINGS, {"generate": False, **variables}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["storePushSettings"]
    return payload


def generate(api: Api, headers: dict[str, str]) -> str:
    payload = settings(api, headers, generate=True, subject="mailto:push@atelier.example")
    assert payload["errors"] == []
    key: str = payload["pushSettings"]["publicKey"]
    return key


def token_for(saleor: JwksServer, clock: Clock, key: SigningKey = KEY, **claims: Any) -> str:
    claims = {"iss": saleor.api_url, "now": clock.now, **claims}
    return customer_token(key.private, key.kid, **claims)


def subscribe(
    api: Api, url: str, token: str, browser: Browser, ua: str | None = "Firefox 140"
) -> dict[str, Any]:
    variables = {"url": url, "token": token, "subscription": browser.subscription(), "ua": ua}
    body = api(SUBSCRIBE, variables)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["pushSubscribe"]
    return payload


def unsubscribe(api: Api, url: str, token: str, endpoint: str) -> dict[str, Any]:
    body = api(UNSUBSCRIBE, {"url": url, "token": token, "endpoint": endpoint})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["pushUnsubscribe"]
    return payload


def browser_for(key: str, endpoint: str = "https://push.example.test/wpush/v2/abc") -> Browser:
    return Browser(endpoint, key)


def rows(runtime: Runtime) -> list[PushSubscription]:
    with runtime.sessions() as session:
        return list(session.scalars(select(PushSubscription).order_by(PushSubscription.created_at)))


def contacts(runtime: Runtime) -> list[Contact]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Contact)))


OK = {"ok": True, "errors": []}


# --- the store's keys ----------------------------------------------------------------------------


def test_keys_are_generated_once_asked_and_the_private_key_is_stored_encrypted(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    # before: nothing to read back
    assert settings(api, headers) == {"pushSettings": None, "removedSubscriptions": 0, "errors": []}
    # when keys are generated
    payload = settings(api, headers, generate=True, subject="mailto:push@atelier.example")
    assert payload["errors"] == []
    view = payload["pushSettings"]
    assert view["subject"] == "mailto:push@atelier.example"
    public = b64url_decode(view["publicKey"])
    assert (len(public), public[0]) == (65, 4)
    # then the private key is stored encrypted, and makes a pair with the public one
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        saved = dict(store.channel_settings)
    credentials = read_push_settings(saved, runtime.secrets.decrypt)
    assert credentials is not None
    assert credentials.keys.private_key not in json.dumps(saved)
    assert public_key_of(credentials.keys.private_key) == view["publicKey"]
    assert credentials.keys.private_key not in json.dumps(payload)
    # and reading them back gives the same, without the private key
    assert settings(api, headers)["pushSettings"] == view


def test_the_subject_defaults_to_the_sender_address_and_can_change_alone(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    # no sender address: a subject is needed
    payload = settings(api, headers, generate=True)
    assert fields_and_codes(payload) == [("subject", "REQUIRED")]
    assert payload["pushSettings"] is None
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        assert store is not None
        store.sender = "bonjour@atelier.example"
    view = settings(api, headers, generate=True)["pushSettings"]
    assert view["subject"] == "mailto:bonjour@atelier.example"
    # the subject changes, the keys stay
    changed = settings(api, headers, subject="https://atelier.example/contact")["pushSettings"]
    assert changed == {"publicKey": view["publicKey"], "subject": "https://atelier.example/contact"}


def test_a_bad_subject_is_refused_and_nothing_is_saved(api: Api, headers: dict[str, str]) -> None:
    key = generate(api, headers)
    payload = settings(api, headers, generate=True, subject="push@atelier.example")
    assert fields_and_codes(payload) == [("subject", "INVALID")]
    assert settings(api, headers)["pushSettings"]["publicKey"] == key
    payload = settings(api, headers, subject="http://atelier.example")
    assert fields_and_codes(payload) == [("subject", "INVALID")]
    assert settings(api, headers)["pushSettings"]["subject"] == "mailto:push@atelier.example"


def test_a_subject_before_any_keys_asks_for_keys(api: Api, runtime: Runtime, clock: Clock) -> None:
    other = install_store(runtime, "https://other.example.com/graphql/", at=clock.now)
    payload = settings(api, bearer(runtime, other), subject="mailto:a@b.example")
    assert fields_and_codes(payload) == [("generate", "REQUIRED")]


def test_new_keys_drop_the_subscriptions_made_with_the_old_ones(
    api: Api, runtime: Runtime, headers: dict[str, str], saleor: JwksServer, clock: Clock
) -> None:
    key = generate(api, headers)
    assert subscribe(api, saleor.api_url, token_for(saleor, clock), browser_for(key)) == OK
    payload = settings(api, headers, generate=True)
    assert payload["removedSubscriptions"] == 1
    assert payload["pushSettings"]["publicKey"] != key
    assert payload["pushSettings"]["subject"] == "mailto:push@atelier.example"  # kept
    assert rows(runtime) == []
    assert (
        api(PUBLIC_KEY, {"url": saleor.api_url})["data"]["pushPublicKey"]
        == (payload["pushSettings"]["publicKey"])
    )


def test_other_channels_settings_are_kept(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        assert store is not None
        store.channel_settings = {"sms": {"kept": True}}
    generate(api, headers)
    with runtime.sessions() as session:
        store = session.get(Store, store_id)
        assert store is not None
        assert store.channel_settings["sms"] == {"kept": True}
        assert set(store.channel_settings) == {"sms", "push"}


def test_only_managers_may_set_push_keys(
    api: Api, saleor: JwksServer, store_id: UUID, clock: Clock
) -> None:
    def dashboard(*permissions: str) -> dict[str, str]:
        claims = dashboard_claims(
            api_url=saleor.api_url, now=clock.now, user_permissions=permissions
        )
        return {"authorization-bearer": KEY.sign(claims), "saleor-api-url": saleor.api_url}

    variables = {"generate": True, "subject": "mailto:push@atelier.example"}
    assert error_codes(api(SETTINGS, variables, dashboard("MANAGE_ORDERS"))) == ["FORBIDDEN"]
    assert error_codes(api(SETTINGS, variables)) == ["UNAUTHENTICATED"]
    assert api(PUBLIC_KEY, {"url": saleor.api_url})["data"]["pushPublicKey"] is None
    done = api(SETTINGS, variables, dashboard("MANAGE_USERS"))["data"]["storePushSettings"]
    assert done["errors"] == []


def test_the_public_key_is_public_and_only_for_active_stores_with_keys(
    api: Api, runtime: Runtime, headers: dict[str, str], saleor: JwksServer, store_id: UUID
) -> None:
    assert api(PUBLIC_KEY, {"url": saleor.api_url}) == {"data": {"pushPublicKey": None}}
    key = generate(api, headers)
    # no credential at all
    assert api(PUBLIC_KEY, {"url": saleor.api_url}) == {"data": {"pushPublicKey": key}}
    assert api(PUBLIC_KEY, {"url": "https://unknown.example/graphql/"}) == {
        "data": {"pushPublicKey": None}
    }
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        assert store is not None
        store.status = StoreStatus.UNINSTALLED
    assert api(PUBLIC_KEY, {"url": saleor.api_url}) == {"data": {"pushPublicKey": None}}


# --- storefront registration ---------------------------------------------------------------------


@pytest.fixture
def public_key(api: Api, headers: dict[str, str]) -> str:
    return generate(api, headers)


def test_a_customer_registers_a_browser_with_their_access_token(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID, public_key: str
) -> None:
    # given a customer signed in on the storefront (Saleor's tokenCreate gave this token)
    token = token_for(saleor, clock, email="Ada@Example.COM", user_id="VXNlcjoyMQ==")
    browser = browser_for(public_key)
    # when the storefront registers the browser's subscription
    assert subscribe(api, saleor.api_url, token, browser) == OK
    # then the contact exists, with push consent, and the subscription is saved
    [contact] = contacts(runtime)
    assert (contact.email, contact.platform_user_id) == ("ada@example.com", "VXNlcjoyMQ==")
    assert contact.consents["push"]["status"] == "subscribed"
    assert contact.consents["push"]["source"] == "push subscription"
    [row] = rows(runtime)
    assert (row.store_id, row.contact_id) == (store_id, contact.id)
    assert (row.endpoint, row.p256dh, row.auth) == (browser.endpoint, browser.p256dh, browser.auth)
    assert (row.user_agent, row.created_at, row.last_success_at) == ("Firefox 140", clock.now, None)


def test_registering_again_is_idempotent_and_updates_the_keys(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    token = token_for(saleor, clock)
    browser = browser_for(public_key)
    assert subscribe(api, saleor.api_url, token, browser) == OK
    assert subscribe(api, saleor.api_url, token, browser) == OK
    [first] = rows(runtime)
    # the browser renewed its keys for the same endpoint (pushsubscriptionchange)
    renewed = browser_for(public_key, browser.endpoint)
    assert subscribe(api, saleor.api_url, token, renewed, ua="x" * 400) == OK
    [row] = rows(runtime)
    assert row.id == first.id
    assert (row.p256dh, row.auth) == (renewed.p256dh, renewed.auth)
    assert row.user_agent == "x" * 300
    assert len(contacts(runtime)) == 1


def test_a_customer_keeps_the_ten_most_recently_registered_browsers(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    token = token_for(saleor, clock)
    endpoints = [f"https://p.example/{n}" for n in range(12)]
    for endpoint in endpoints:
        clock.advance(seconds=1)
        assert subscribe(api, saleor.api_url, token, browser_for(public_key, endpoint)) == OK
    assert {row.endpoint for row in rows(runtime)} == set(endpoints[2:])
    # registering an old one again makes it the most recent: the oldest other one goes
    clock.advance(seconds=1)
    subscribe(api, saleor.api_url, token, browser_for(public_key, endpoints[2]))
    assert {row.endpoint for row in rows(runtime)} == set(endpoints[2:])
    clock.advance(seconds=1)
    subscribe(api, saleor.api_url, token, browser_for(public_key, endpoints[0]))
    assert {row.endpoint for row in rows(runtime)} == {endpoints[0], endpoints[2], *endpoints[4:]}


def test_an_endpoint_moves_to_the_customer_who_registers_it(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    browser = browser_for(public_key)
    subscribe(api, saleor.api_url, token_for(saleor, clock, email="ada@example.com"), browser)
    subscribe(api, saleor.api_url, token_for(saleor, clock, email="bob@example.com"), browser)
    [row] = rows(runtime)
    by_email = {contact.email: contact.id for contact in contacts(runtime)}
    assert row.contact_id == by_email["bob@example.com"]


def test_answers_never_tell_whether_the_email_is_known(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    known = token_for(saleor, clock, email="ada@example.com")
    subscribe(api, saleor.api_url, known, browser_for(public_key, "https://p.example/1"))
    unknown = token_for(saleor, clock, email="new@example.com")
    first = api(
        SUBSCRIBE, _variables(saleor, unknown, browser_for(public_key, "https://p.example/2"))
    )
    again = api(
        SUBSCRIBE, _variables(saleor, known, browser_for(public_key, "https://p.example/3"))
    )
    assert first == again == {"data": {"pushSubscribe": OK}}
    assert unsubscribe(api, saleor.api_url, unknown, "https://p.example/9") == OK
    assert (
        unsubscribe(api, saleor.api_url, token_for(saleor, clock, email="x@y.example"), "e") == OK
    )


def _variables(saleor: JwksServer, token: str, browser: Browser) -> dict[str, Any]:
    return {"url": saleor.api_url, "token": token, "subscription": browser.subscription()}


def _hs256_token(saleor: JwksServer, clock: Clock) -> str:
    # an HMAC token "signed" with the public key's bytes (the classic algorithm confusion)
    header = {"alg": "HS256", "kid": KEY.kid, "typ": "JWT"}
    claims = {"iss": saleor.api_url, "exp": int((clock.now + timedelta(minutes=5)).timestamp())}
    claims |= {"type": "access", "email": "ada@example.com"}
    signing = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, claims)
    )
    secret = json.dumps(KEY.jwk()).encode()
    signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("expired", "TOKEN_EXPIRED"),
        ("not_yet_valid", "TOKEN_EXPIRED"),
        ("other_issuer", "INVALID_TOKEN"),
        ("no_issuer", "INVALID_TOKEN"),
        ("bad_signature", "INVALID_TOKEN"),
        ("tampered", "INVALID_TOKEN"),
        ("refresh_token", "INVALID_TOKEN"),
        ("dashboard_token", "INVALID_TOKEN"),
        ("no_type", "INVALID_TOKEN"),
        ("no_email", "INVALID_TOKEN"),
        ("no_exp", "INVALID_TOKEN"),
        ("hs256", "INVALID_TOKEN"),
        ("none_alg", "INVALID_TOKEN"),
        ("not_a_jwt", "INVALID_TOKEN"),
        ("unknown_kid", "INVALID_TOKEN"),
    ],
)
def test_refused_tokens_change_nothing(
    api: Api,
    runtime: Runtime,
    saleor: JwksServer,
    clock: Clock,
    public_key: str,
    case: str,
    code: str,
) -> None:
    now = clock.now
    tokens = {
        "expired": lambda: token_for(saleor, clock, now=now - timedelta(minutes=6)),
        "not_yet_valid": lambda: token_for(saleor, clock, nbf=int(now.timestamp()) + 60),
        "other_issuer": lambda: token_for(saleor, clock, iss="https://evil.example/graphql/"),
        "no_issuer": lambda: token_for(saleor, clock, iss=None),
        "bad_signature": lambda: customer_token(
            SigningKey("impostor").private, KEY.kid, iss=saleor.api_url, now=now
        ),
        "tampered": lambda: _tampered(token_for(saleor, clock)),
        "refresh_token": lambda: token_for(saleor, clock, type="refresh"),
        "dashboard_token": lambda: KEY.sign(dashboard_claims(api_url=saleor.api_url, now=now)),
        "no_type": lambda: token_for(saleor, clock, type=None),
        "no_email": lambda: token_for(saleor, clock, email=None),
        "no_exp": lambda: token_for(saleor, clock, exp=None),
        "hs256": lambda: _hs256_token(saleor, clock),
        "none_alg": lambda: jwt.encode(
            {"iss": saleor.api_url, "type": "access", "email": "a@b.example"}, None, "none"
        ),
        "not_a_jwt": lambda: "not-a-token",
        "unknown_kid": lambda: token_for(saleor, clock, key=SigningKey("never-published")),
    }
    token = tokens[case]()
    payload = subscribe(api, saleor.api_url, token, browser_for(public_key))
    assert payload["ok"] is False
    assert fields_and_codes(payload) == [("token", code)]
    assert token not in json.dumps(payload)
    assert rows(runtime) == []
    assert contacts(runtime) == []
    assert fields_and_codes(unsubscribe(api, saleor.api_url, token, "https://p.example/1")) == [
        ("token", code)
    ]


def _tampered(token: str) -> str:
    header, claims, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data["email"] = "victim@example.com"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_token_of_one_store_is_refused_by_another(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    # store B trusts the same Saleor key, but the token was issued by store A's API
    other_url = "https://b.example.com/graphql/"
    other = install_store(runtime, other_url, app_id=APP_ID, jwks=jwks(KEY), at=clock.now)
    generate(api, bearer(runtime, other))
    payload = subscribe(api, other_url, token_for(saleor, clock), browser_for(public_key))
    assert fields_and_codes(payload) == [("token", "INVALID_TOKEN")]
    assert rows(runtime) == []


def test_an_unknown_or_uninstalled_store_is_not_found(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID, public_key: str
) -> None:
    token = token_for(saleor, clock)
    payload = subscribe(api, "https://unknown.example/graphql/", token, browser_for(public_key))
    assert fields_and_codes(payload) == [("storeApiUrl", "NOT_FOUND")]
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        assert store is not None
        store.status = StoreStatus.UNINSTALLED
    payload = subscribe(api, saleor.api_url, token, browser_for(public_key))
    assert fields_and_codes(payload) == [("storeApiUrl", "NOT_FOUND")]
    assert rows(runtime) == []


def test_a_rotated_saleor_key_is_fetched_once(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    # Saleor rotated its key: the JWKS relance saved does not know it yet
    saleor.document = jwks(ROTATED)
    token = token_for(saleor, clock, key=ROTATED)
    assert subscribe(api, saleor.api_url, token, browser_for(public_key)) == OK
    assert saleor.hits == 1
    # an unknown kid right after does not make relance fetch again (at most every 30 s)
    forged = token_for(saleor, clock, key=SigningKey("forged-kid"))
    payload = subscribe(api, saleor.api_url, forged, browser_for(public_key, "https://p.example/2"))
    assert fields_and_codes(payload) == [("token", "INVALID_TOKEN")]
    assert saleor.hits == 1


def test_a_store_without_push_keys_refuses_registrations(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, store_id: UUID
) -> None:
    browser = browser_for("BExample")
    payload = subscribe(api, saleor.api_url, token_for(saleor, clock), browser)
    assert fields_and_codes(payload) == [(None, "NOT_CONFIGURED")]
    assert rows(runtime) == []
    assert contacts(runtime) == []


def test_a_bad_subscription_reports_every_problem_and_saves_nothing(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    subscription = {
        "endpoint": "http://127.0.0.1:8080/push",
        "keys": {"p256dh": "AAAA", "auth": base64.urlsafe_b64encode(b"x" * 15).decode()},
    }
    variables = {
        "url": saleor.api_url,
        "token": token_for(saleor, clock),
        "subscription": subscription,
    }
    payload = api(SUBSCRIBE, variables)["data"]["pushSubscribe"]
    assert fields_and_codes(payload) == [
        ("subscription.endpoint", "INVALID"),
        ("subscription.keys.p256dh", "INVALID"),
        ("subscription.keys.auth", "INVALID"),
    ]
    assert rows(runtime) == []
    assert contacts(runtime) == []
    # a loopback endpoint over https is refused too (the operator has no allow-list here)
    browser = browser_for(public_key, "https://127.0.0.1:8443/push/1")
    payload = subscribe(api, saleor.api_url, token_for(saleor, clock), browser)
    assert payload["errors"] == [
        {
            "field": "subscription.endpoint",
            "code": "INVALID",
            "message": "127.0.0.1 is a loopback address",
        }
    ]


# --- unsubscribe ---------------------------------------------------------------------------------


def test_a_customer_forgets_only_their_own_subscription(
    api: Api, runtime: Runtime, saleor: JwksServer, clock: Clock, public_key: str
) -> None:
    ada, bob = (token_for(saleor, clock, email=e) for e in ("ada@example.com", "bob@example.com"))
    mine = browser_for(public_key, "https://p.example/ada")
    theirs = browser_for(public_key, "https://p.example/bob")
    subscribe(api, saleor.api_url, ada, mine)
    subscribe(api, saleor.api_url, bob, theirs)
    # Ada cannot remove Bob's browser (the answer is ok all the same)
    assert unsubscribe(api, saleor.api_url, ada, theirs.endpoint) == OK
    assert {row.endpoint for row in rows(runtime)} == {mine.endpoint, theirs.endpoint}
    # she removes her own; twice is fine
    assert unsubscribe(api, saleor.api_url, ada, mine.endpoint) == OK
    assert unsubscribe(api, saleor.api_url, ada, mine.endpoint) == OK
    assert {row.endpoint for row in rows(runtime)} == {theirs.endpoint}
    # the contact's push consent is left alone
    by_email = {c.email: c for c in contacts(runtime)}
    assert by_email["ada@example.com"].consents["push"]["status"] == "subscribed"
    payload = unsubscribe(api, saleor.api_url, ada, "https://p.example/" + "x" * 1000)
    assert fields_and_codes(payload) == [("endpoint", "TOO_LONG")]


# --- registered, then pushed ---------------------------------------------------------------------


def test_a_browser_registered_through_graphql_receives_pushes(
    api: Api,
    runtime: Runtime,
    saleor: JwksServer,
    clock: Clock,
    store_id: UUID,
    public_key: str,
    push_service: PushService,
) -> None:
    # a browser subscribed at the push service with the key pushPublicKey gives
    key = api(PUBLIC_KEY, {"url": saleor.api_url})["data"]["pushPublicKey"]
    browser = push_service.subscribe(key)
    assert subscribe(api, saleor.api_url, token_for(saleor, clock), browser) == OK
    # relance pushes with what was stored: the service decrypts it with the browser's keys
    [row] = rows(runtime)
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        credentials = read_push_settings(store.channel_settings, runtime.secrets.decrypt)
    assert isinstance(credentials, PushCredentials)
    target = PushTarget(row.endpoint, row.p256dh, row.auth)
    client = push_client_for(push_service)
    result = client.send(PushRequest(target, b'{"title": "Hi"}'), credentials, clock.now)
    assert result.outcome is PushOutcome.DELIVERED
    [push] = push_service.pushes
    assert push.message == {"title": "Hi"}


# --- cases for tests/graphql/test_tenancy.py ----------------------------------------------------
# Store A's credential against store B (``world`` is that file's World). None of these fields
# takes an id, email or cursor of relance's, so they belong in its NO_FOREIGN_IDS; register with
# ``CASES.update(TENANCY_CASES)``.


def tenancy_store_push_settings(world: Any) -> None:
    payload = world.data(SETTINGS, "storePushSettings", generate=True, subject="mailto:a@a.example")
    assert payload["errors"] == []
    theirs = world.api(SETTINGS, {"generate": False}, headers=world.b.headers)
    assert theirs["data"]["storePushSettings"]["pushSettings"] is None


def tenancy_push_public_key(world: Any) -> None:
    # public: any caller may read any store's key; B has none
    assert world.data(PUBLIC_KEY, "pushPublicKey", url="https://b.example.com/graphql/") is None


def tenancy_push_subscribe(world: Any) -> None:
    # a storefront operation: A's admin credential is no customer token for B
    browser = Browser("https://push.example.test/wpush/v2/x", generate_vapid_keys().public_key)
    payload = world.data(
        SUBSCRIBE,
        "pushSubscribe",
        url="https://b.example.com/graphql/",
        token=world.headers.get("authorization-bearer", "rl_not_a_customer_token"),
        subscription=browser.subscription(),
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("token", "INVALID_TOKEN")]


def tenancy_push_unsubscribe(world: Any) -> None:
    payload = world.data(
        UNSUBSCRIBE,
        "pushUnsubscribe",
        url="https://b.example.com/graphql/",
        token=world.headers.get("authorization-bearer", "rl_not_a_customer_token"),
        endpoint="https://push.example.test/wpush/v2/x",
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("token", "INVALID_TOKEN")]


TENANCY_CASES = {
    "storePushSettings": tenancy_store_push_settings,
    "pushPublicKey": tenancy_push_public_key,
    "pushSubscribe": tenancy_push_subscribe,
    "pushUnsubscribe": tenancy_push_unsubscribe,
}
