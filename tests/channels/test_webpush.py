"""channels/webpush.py: VAPID keys, what a storefront may register, and pushes to a local push
service that decrypts them with the browser's keys and verifies the VAPID JWT."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from relance.channels.webhooks import AddressPolicy
from relance.channels.webpush import (
    MAX_PAYLOAD_BYTES,
    PushClient,
    PushCredentials,
    PushOutcome,
    PushRequest,
    PushTarget,
    StoredPushSettings,
    UnreadablePushSettings,
    b64url_decode,
    check_subject,
    check_subscription,
    classify,
    encrypt,
    generate_vapid_keys,
    notification_payload,
    public_key_of,
    read_push_settings,
)
from relance.store.crypto import SecretBox
from tests.fixtures.push_service import (
    PUSH_HOST,
    Answer,
    Browser,
    PushService,
    b64url,
    push_client_for,
    start_push_service,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEYS = generate_vapid_keys()
CREDENTIALS = PushCredentials(KEYS, "mailto:push@shop.example")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[PushService]:
    running, stop = start_push_service(tmp_path / "tls", now=lambda: NOW)
    yield running
    stop()


def target_of(browser: Browser) -> PushTarget:
    return PushTarget(browser.endpoint, browser.p256dh, browser.auth)


def request_for(
    browser: Browser, payload: bytes = b'{"title": "Hi"}', **more: object
) -> PushRequest:
    return PushRequest(target=target_of(browser), payload=payload, **more)  # type: ignore[arg-type]


# --- keys and settings ---------------------------------------------------------------------------


def test_generated_keys_are_a_p256_pair_in_base64url() -> None:
    keys = generate_vapid_keys()
    public, private = b64url_decode(keys.public_key), b64url_decode(keys.private_key)
    assert (len(public), public[0], len(private)) == (65, 4, 32)
    assert "=" not in keys.public_key + keys.private_key
    assert public_key_of(keys.private_key) == keys.public_key
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    assert keys.private_key not in repr(keys)
    assert generate_vapid_keys() != keys


def test_stored_settings_decrypt_with_the_secret_key_only() -> None:
    box = SecretBox("a secret")
    stored = StoredPushSettings(
        vapid_public_key=KEYS.public_key,
        vapid_private_key_encrypted=box.encrypt(KEYS.private_key),
        subject="mailto:push@shop.example",
    )
    settings = {"sms": {"other": True}, "push": stored.model_dump()}
    credentials = read_push_settings(settings, box.decrypt)
    assert credentials == CREDENTIALS
    assert read_push_settings({"sms": {}}, box.decrypt) is None
    with pytest.raises(UnreadablePushSettings, match="cannot be decrypted"):
        read_push_settings(settings, SecretBox("another secret").decrypt)
    other = generate_vapid_keys()
    mismatched = {"push": {**stored.model_dump(), "vapid_public_key": other.public_key}}
    with pytest.raises(UnreadablePushSettings, match="do not make a pair"):
        read_push_settings(mismatched, box.decrypt)
    with pytest.raises(UnreadablePushSettings, match="malformed"):
        read_push_settings({"push": {"vapid": "?"}}, box.decrypt)


@pytest.mark.parametrize(
    ("subject", "accepted"),
    [
        ("mailto:push@shop.example", True),
        ("MAILTO:Push@Shop.Example", True),
        ("https://shop.example/contact", True),
        ("https://shop.example", True),
        ("mailto:push", False),
        ("push@shop.example", False),
        ("http://shop.example", False),
        ("https://", False),
        ("mailto:" + "a" * 320 + "@x.example", False),
    ],
)
def test_subject_is_a_mailto_address_or_an_https_url(subject: str, accepted: bool) -> None:
    assert (check_subject(subject) is None) is accepted


# --- what a storefront may register --------------------------------------------------------------


def keys_of(browser: Browser) -> tuple[str, str]:
    return browser.p256dh, browser.auth


@pytest.fixture
def browser() -> Browser:
    return Browser(f"https://{PUSH_HOST}/wpush/v2/abc", KEYS.public_key)


def test_a_browser_subscription_is_accepted_and_normalised(browser: Browser) -> None:
    # padded base64url (some libraries pad) comes out unpadded; spaces around are dropped
    padded = base64.urlsafe_b64encode(b64url_decode(browser.p256dh)).decode()
    target, problems = check_subscription(f" {browser.endpoint} ", padded, browser.auth + "==")
    assert problems == []
    assert target == PushTarget(browser.endpoint, browser.p256dh, browser.auth)


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("http://push.example.test/x", "https URL"),
        ("ftp://push.example.test/x", "not a valid URL"),
        ("https://user:secret@push.example.test/x", "without credentials"),
        ("push.example.test/x", "not a valid URL"),
        ("https://127.0.0.1/x", "127.0.0.1 is a loopback address"),
        ("https://127.9.9.9:8443/x", "loopback"),
        ("https://[::1]/x", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/x", "loopback"),
        ("https://2130706433/x", "127.0.0.1 is a loopback address"),
        ("https://0x7f.1/x", "127.0.0.1 is a loopback address"),
        ("https://017700000001/x", "127.0.0.1 is a loopback address"),
        ("https://localhost/x", "loopback"),
        ("https://app.localhost/x", "loopback"),
        ("https://10.1.2.3/x", "private"),
        ("https://192.168.1.20/x", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://0.0.0.0/x", "unspecified"),
        ("https://100.64.0.1/x", "reserved"),
        ("https://push.example.test/" + "x" * 1000, "longer than 1000"),
    ],
)
def test_endpoints_that_are_not_public_https_urls_are_refused(
    browser: Browser, endpoint: str, message: str
) -> None:
    target, problems = check_subscription(endpoint, *keys_of(browser))
    assert target is None
    [problem] = problems
    assert problem.path == "subscription.endpoint"
    assert message in problem.message


def test_the_operator_allow_list_admits_internal_push_services(browser: Browser) -> None:
    policy = AddressPolicy(("127.0.0.0/8", "push.internal"))
    for endpoint in ("https://127.0.0.1:8443/x", "https://push.internal/x"):
        target, problems = check_subscription(endpoint, *keys_of(browser), policy)
        assert problems == []
        assert target is not None
    # other private networks stay refused
    assert check_subscription("https://10.0.0.1/x", *keys_of(browser), policy)[1]


@pytest.mark.parametrize(
    ("p256dh", "auth", "paths"),
    [
        (b64url(b"\x04" + b"\x01" * 64), None, ["subscription.keys.p256dh"]),  # not on the curve
        (b64url(b"\x04" * 33), None, ["subscription.keys.p256dh"]),  # compressed size
        ("not base64!", None, ["subscription.keys.p256dh"]),
        (None, b64url(b"x" * 15), ["subscription.keys.auth"]),
        (None, b64url(b"x" * 32), ["subscription.keys.auth"]),
        (None, "a+b/" * 4, ["subscription.keys.auth"]),  # the other alphabet
        ("", "", ["subscription.keys.p256dh", "subscription.keys.auth"]),
    ],
)
def test_keys_must_decode_to_a_p256_point_and_a_16_byte_secret(
    browser: Browser, p256dh: str | None, auth: str | None, paths: list[str]
) -> None:
    target, problems = check_subscription(
        browser.endpoint,
        p256dh if p256dh is not None else browser.p256dh,
        auth if auth is not None else browser.auth,
    )
    assert target is None
    assert [p.path for p in problems] == paths


def test_every_problem_is_reported_at_once(browser: Browser) -> None:
    _, problems = check_subscription("http://localhost/x", "", "")
    assert [p.path for p in problems] == [
        "subscription.endpoint",
        "subscription.keys.p256dh",
        "subscription.keys.auth",
    ]


# --- the payload ---------------------------------------------------------------------------------


def test_the_largest_payload_fills_exactly_one_4096_byte_record(browser: Browser) -> None:
    # the limit is what push services accept: 4,096 bytes of aes128gcm body
    body = encrypt(target_of(browser), b"x" * MAX_PAYLOAD_BYTES)
    assert len(body) == 4096
    assert browser.decrypt(body) == b"x" * MAX_PAYLOAD_BYTES
    # and each encryption uses a fresh key and salt
    assert encrypt(target_of(browser), b"same") != encrypt(target_of(browser), b"same")


def test_the_notification_is_compact_utf8_json() -> None:
    payload = notification_payload("Votre panier", "Thé vert (2)", None, "m-1")
    assert json.loads(payload) == {
        "title": "Votre panier",
        "body": "Thé vert (2)",
        "url": None,
        "tag": "m-1",
    }
    assert "Thé".encode() in payload


# --- pushing -------------------------------------------------------------------------------------


def test_a_push_is_delivered_encrypted_and_signed(service: PushService) -> None:
    # given a browser subscribed with the store's key
    browser = service.subscribe(KEYS.public_key)
    client = push_client_for(service)
    # when relance pushes to it
    result = client.send(
        request_for(browser, b'{"title":"Hello"}', topic="a" * 32, urgency="high", ttl=600),
        CREDENTIALS,
        NOW,
    )
    # then the push service decrypted the payload with the browser's keys
    assert service.refusals == []
    [push] = service.pushes
    assert push.message == {"title": "Hello"}
    assert (result.outcome, result.status) == (PushOutcome.DELIVERED, 201)
    assert result.detail == "HTTP 201 Created"
    assert result.location is not None
    assert result.location.startswith(service.origin + "/m/")
    # and the VAPID JWT was signed by the store's key for the endpoint's origin
    assert push.claims == {
        "aud": service.origin,
        "exp": int((NOW + timedelta(hours=12)).timestamp()),
        "sub": "mailto:push@shop.example",
    }
    assert push.headers["authorization"].startswith("vapid t=")
    assert push.headers["authorization"].endswith(f",k={KEYS.public_key}")
    assert push.headers["ttl"] == "600"
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == "a" * 32
    assert push.headers["content-encoding"] == "aes128gcm"
    assert push.headers["host"] == f"{PUSH_HOST}:{service.port}"
    assert push.headers["user-agent"].startswith("relance/")
    # the name was resolved once, by relance's resolver
    assert service.resolver.lookups == [PUSH_HOST]


def test_a_subscription_made_with_another_key_is_refused(service: PushService) -> None:
    browser = service.subscribe(generate_vapid_keys().public_key)
    result = push_client_for(service).send(request_for(browser), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.REFUSED
    assert result.status == 403
    assert service.pushes == []
    [refusal] = service.refusals
    assert "not the key" in refusal.reason


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, PushOutcome.DELIVERED),
        (201, PushOutcome.DELIVERED),
        (202, PushOutcome.DELIVERED),
        (404, PushOutcome.GONE),
        (410, PushOutcome.GONE),
        (408, PushOutcome.RETRY),
        (429, PushOutcome.RETRY),
        (500, PushOutcome.RETRY),
        (502, PushOutcome.RETRY),
        (503, PushOutcome.RETRY),
        (301, PushOutcome.REFUSED),
        (400, PushOutcome.REFUSED),
        (401, PushOutcome.REFUSED),
        (403, PushOutcome.REFUSED),
        (413, PushOutcome.REFUSED),
    ],
)
def test_answers_are_classified(service: PushService, status: int, outcome: PushOutcome) -> None:
    assert classify(status) is outcome
    browser = service.subscribe(KEYS.public_key)
    service.script(browser, Answer(status, b'{"reason": "scripted"}'))
    result = push_client_for(service).send(request_for(browser), CREDENTIALS, NOW)
    assert (result.outcome, result.status) == (outcome, status)
    if outcome is not PushOutcome.DELIVERED:
        assert result.detail.endswith('{"reason": "scripted"}')
        assert result.location is None


def test_loopback_is_refused_without_the_allow_list(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    client = PushClient(resolver=service.resolver, ssl_context=service.client_tls)
    result = client.send(request_for(browser), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.REFUSED
    assert "127.0.0.1, a loopback address" in result.detail
    assert service.pushes == []
    assert service.refusals == []


def test_an_allow_listed_host_name_is_enough(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    result = push_client_for(service, allowed=(PUSH_HOST,)).send(
        request_for(browser), CREDENTIALS, NOW
    )
    assert result.outcome is PushOutcome.DELIVERED


def test_an_http_endpoint_is_never_called(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    plain = PushTarget(browser.endpoint.replace("https:", "http:"), browser.p256dh, browser.auth)
    result = push_client_for(service).send(PushRequest(plain, b"{}"), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.REFUSED
    assert service.resolver.lookups == []


def test_an_unknown_name_is_retried_later(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    gone = PushTarget(
        browser.endpoint.replace(PUSH_HOST, "nowhere.example.test"), browser.p256dh, browser.auth
    )
    result = push_client_for(service).send(PushRequest(gone, b"{}"), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.RETRY
    assert "could not resolve nowhere.example.test" in result.detail


def test_no_answer_in_time_is_retried_later(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    service.script(browser, Answer(201, delay=1.0))
    client = PushClient(
        AddressPolicy(("127.0.0.0/8",)),
        resolver=service.resolver,
        ssl_context=service.client_tls,
        timeout=httpx.Timeout(0.3),
    )
    result = client.send(request_for(browser), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.RETRY
    assert result.detail == "no answer within the timeout"


def test_a_closed_port_is_retried_later(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    closed = PushTarget(
        browser.endpoint.replace(f":{service.port}/", ":1/"), browser.p256dh, browser.auth
    )
    result = push_client_for(service).send(PushRequest(closed, b"{}"), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.RETRY
    assert result.detail.startswith(f"could not connect to {PUSH_HOST}")


def test_the_certificate_must_be_valid_for_the_endpoint_name(
    service: PushService, tmp_path: Path
) -> None:
    browser = service.subscribe(KEYS.public_key)
    # a client trusting another CA does not accept the service's certificate
    from tests.fixtures.push_service import make_certificates

    _, other_ca = make_certificates(tmp_path / "other", PUSH_HOST)
    client = PushClient(
        AddressPolicy(("127.0.0.0/8",)), resolver=service.resolver, ssl_context=other_ca
    )
    result = client.send(request_for(browser), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.RETRY
    assert service.pushes == []


def test_unusable_keys_are_refused_before_any_call(service: PushService) -> None:
    browser = service.subscribe(KEYS.public_key)
    broken = PushTarget(browser.endpoint, b64url(b"\x04" + b"\x01" * 64), browser.auth)
    result = push_client_for(service).send(PushRequest(broken, b"{}"), CREDENTIALS, NOW)
    assert result.outcome is PushOutcome.REFUSED
    assert service.resolver.lookups == []
