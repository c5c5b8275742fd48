"""Web Push: VAPID keys (RFC 8292), encrypted payloads (RFC 8291, ``aes128gcm``), the push
service call (RFC 8030), and what a storefront may register.

The cryptography is pywebpush's (payload encryption, through http_ece) and py_vapid's (the VAPID
JWT); this module only chooses the parameters and makes the HTTP call.

Keys
    Each store has one VAPID key pair (P-256). The public key — 65 bytes, uncompressed point,
    base64url — is the ``applicationServerKey`` browsers subscribe with; the private key (the
    32-byte scalar, base64url) is stored encrypted with ``RELANCE_SECRET_KEY``. A subscription
    works only with the key it was made with: new keys make every existing one useless.

Registration (:func:`check_subscription`), without any network access
    the endpoint is an ``https`` URL of at most 1,000 characters, without credentials, whose host
    is not a loopback, private, link-local… address literal nor ``localhost`` (the rules of
    :mod:`relance.channels.webhooks`, lifted by ``RELANCE_WEBHOOK_ALLOWED_NETWORKS``);
    ``p256dh`` decodes (base64url) to a 65-byte point on P-256 and ``auth`` to 16 bytes.

Delivery (:class:`PushClient`)
    the endpoint's host is resolved and every address vetted again (a name may point elsewhere
    since registration), the connection pinned to the vetted address — the webhook client's
    rules, with the same allow-list — and one POST is made with the encrypted payload, ``TTL``,
    ``Urgency``, ``Topic`` (the message id: a push service replaces a queued notification of the
    same topic, so a retry never stacks two) and ``Authorization: vapid t=<JWT>, k=<public key>``
    (``aud`` the endpoint's origin, ``exp`` 12 hours on, ``sub`` the store's contact). Each call
    has its own timeouts (5 s to connect, 10 s in all per read). Redirects are not followed and
    the environment's proxies are ignored.

Answers (:class:`PushOutcome`): 2xx delivered; 404 and 410 gone (the subscription expired or was
revoked: forget it); 408, 429, 5xx and no answer at all retry later; other statuses (400, 401,
403 — often a subscription made with another key —, 413…) refused for good for that endpoint.
Nothing here logs endpoints, keys or payloads.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, ValidationError
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]

from relance import __version__
from relance.automation.validation import Violation
from relance.channels.errors import DeliveryError, PermanentDeliveryError
from relance.channels.webhooks import (
    AddressPolicy,
    IPAddress,
    PinnedTransport,
    Resolver,
    WebhookClient,
    forbidden_reason,
    parse_target,
    system_resolver,
)

#: Key of the push settings in ``Store.channel_settings``.
SETTINGS_KEY = "push"
#: Decoded sizes of a subscription's keys: an uncompressed P-256 point, the auth secret.
P256DH_BYTES = 65
AUTH_BYTES = 16
#: Longest endpoint stored (the column's size).
MAX_ENDPOINT_CHARS = 1000
#: Largest plaintext that fits the 4,096-byte record push services accept once encrypted with
#: aes128gcm (86-byte header, 16-byte tag, 1 padding delimiter).
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
#: How long a push service keeps a notification for an offline browser, in seconds (1 day).
DEFAULT_TTL = 86_400
#: Lifetime of a VAPID JWT (push services refuse more than 24 hours).
VAPID_VALIDITY = timedelta(hours=12)
#: Per call: 5 s to connect, 10 s for each read and write.
PUSH_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: Characters of a push service's answer kept to describe a refusal.
MAX_DETAIL_CHARS = 200

_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
#: IPv4 spellings ``inet_aton`` reads: decimal, octal or hex parts.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_MAILTO = re.compile(r"^mailto:[^@\s/]+@[^@\s/]+\.[^@\s/]+$", re.IGNORECASE)


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding. Raises ``ValueError`` (also for ``+`` and
    ``/``, which belong to the other alphabet)."""
    if not _BASE64URL.match(text):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url") from error


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as browsers and the VAPID header write keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# --- keys --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VapidKeys:
    """A store's VAPID key pair, base64url: ``public_key`` the uncompressed point (65 bytes),
    ``private_key`` the scalar (32 bytes). The private key never appears in ``repr``."""

    public_key: str
    private_key: str = field(repr=False)


def _public_point(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def generate_vapid_keys() -> VapidKeys:
    """A new P-256 key pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return VapidKeys(public_key=_public_point(key), private_key=b64url_encode(scalar))


def load_private_key(private_key: str) -> ec.EllipticCurvePrivateKey:
    """The key of a base64url 32-byte scalar. Raises ``ValueError``."""
    raw = b64url_decode(private_key)
    if len(raw) != 32:
        raise ValueError("a VAPID private key is 32 bytes")
    return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())


def public_key_of(private_key: str) -> str:
    """The base64url public key of a base64url private key. Raises ``ValueError``."""
    return _public_point(load_private_key(private_key))


def check_subject(subject: str) -> str | None:
    """Why ``subject`` cannot be a VAPID ``sub`` claim (``None``: it can). Push services want a
    way to reach the sender: ``mailto:`` an address, or an ``https:`` URL."""
    if len(subject) > 320:
        return "the contact is longer than 320 characters"
    if _MAILTO.match(subject):
        return None
    if subject.lower().startswith("https://"):
        try:
            url = httpx.URL(subject)
        except httpx.InvalidURL:
            return "not a valid https URL"
        if url.host and " " not in subject:
            return None
        return "not a valid https URL"
    return "give a mailto: address (mailto:push@shop.example) or an https: URL"


# --- settings ----------------------------------------------------------------------------------


class StoredPushSettings(BaseModel):
    """The JSON under ``Store.channel_settings["push"]``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    vapid_public_key: str
    vapid_private_key_encrypted: str
    subject: str


@dataclass(frozen=True, slots=True)
class PushCredentials:
    """What a send needs: the key pair (private key decrypted) and the VAPID ``sub``."""

    keys: VapidKeys
    subject: str


class UnreadablePushSettings(ValueError):
    """The stored push settings cannot be used (malformed, or the key does not decrypt)."""


def stored_push_settings(channel_settings: dict[str, Any] | None) -> StoredPushSettings | None:
    """The stored push settings, None when the store has none. Raises
    :class:`UnreadablePushSettings` when they are malformed."""
    raw = (channel_settings or {}).get(SETTINGS_KEY)
    if not raw:
        return None
    try:
        return StoredPushSettings.model_validate(raw)
    except ValidationError:
        raise UnreadablePushSettings("the store's push settings are malformed") from None


def read_push_settings(
    channel_settings: dict[str, Any] | None, decrypt: Callable[[str], str]
) -> PushCredentials | None:
    """The store's push credentials, None when it has no keys.

    Raises:
        UnreadablePushSettings: malformed settings, a private key that does not decrypt
            (RELANCE_SECRET_KEY changed) or does not match the public key.
    """
    stored = stored_push_settings(channel_settings)
    if stored is None:
        return None
    try:
        private_key = decrypt(stored.vapid_private_key_encrypted)
    except ValueError:
        raise UnreadablePushSettings("the store's VAPID private key cannot be decrypted") from None
    try:
        matches = public_key_of(private_key) == stored.vapid_public_key
    except ValueError:
        matches = False
    if not matches:
        raise UnreadablePushSettings("the store's VAPID keys do not make a pair")
    return PushCredentials(VapidKeys(stored.vapid_public_key, private_key), stored.subject)


# --- subscriptions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushTarget:
    """One browser: where to push and the keys to encrypt for (base64url, unpadded)."""

    endpoint: str
    p256dh: str
    auth: str = field(repr=False)


def _check_endpoint(endpoint: str, policy: AddressPolicy) -> Violation | None:
    def invalid(message: str, code: str = "invalid") -> Violation:
        return Violation("subscription.endpoint", code, message)

    if len(endpoint) > MAX_ENDPOINT_CHARS:
        return invalid(f"longer than {MAX_ENDPOINT_CHARS} characters", "too_long")
    try:
        target = parse_target(endpoint)
    except DeliveryError:
        return invalid("not a valid URL (a push endpoint is an https URL without credentials)")
    if target.scheme != "https":
        return invalid("a push endpoint is an https URL")
    host = target.host
    if policy.host_allowed(host):
        return None
    address = literal_address(host)
    if address is not None:
        reason = forbidden_reason(address)
        if reason is not None and not policy.address_allowed(address):
            return invalid(f"{address} is {reason}")
    elif host == "localhost" or host.endswith(".localhost"):
        return invalid("localhost is a loopback address")
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an address stands for, in any spelling the resolver
    would accept without DNS (``127.0.0.1``, ``::1``, ``2130706433``, ``0x7f.1``); else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_subscription(
    endpoint: str, p256dh: str, auth: str, policy: AddressPolicy | None = None
) -> tuple[PushTarget | None, list[Violation]]:
    """A storefront's ``PushSubscription`` checked and normalised (keys unpadded base64url),
    or every problem, with paths ``subscription.endpoint``, ``subscription.keys.p256dh``,
    ``subscription.keys.auth``. Makes no network access (no DNS either): delivery vets the
    endpoint's addresses again."""
    problems: list[Violation] = []
    text = endpoint.strip()
    endpoint_problem = _check_endpoint(text, policy or AddressPolicy())
    if endpoint_problem is not None:
        problems.append(endpoint_problem)
    point = b""
    try:
        point = b64url_decode(p256dh.strip())
        if len(point) != P256DH_BYTES:
            raise ValueError(f"decodes to {len(point)} bytes, not {P256DH_BYTES}")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as error:
        detail = str(error) if "bytes" in str(error) else "not an uncompressed P-256 point"
        problems.append(
            Violation("subscription.keys.p256dh", "invalid", f"p256dh (base64url): {detail}")
        )
    secret = b""
    try:
        secret = b64url_decode(auth.strip())
        if len(secret) != AUTH_BYTES:
            raise ValueError(f"decodes to {len(secret)} bytes, not {AUTH_BYTES}")
    except ValueError as error:
        problems.append(
            Violation("subscription.keys.auth", "invalid", f"auth (base64url): {error}")
        )
    if problems:
        return None, problems
    return PushTarget(text, b64url_encode(point), b64url_encode(secret)), []


# --- the notification --------------------------------------------------------------------------


def notification_payload(title: str, body: str, url: str | None, tag: str) -> bytes:
    """The JSON a service worker gets in ``event.data.json()``: title, body, url, tag."""
    document = {"title": title, "body": body, "url": url, "tag": tag}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def origin_of(endpoint: str) -> str:
    """``scheme://host[:port]`` of an endpoint: the VAPID JWT's ``aud``."""
    url = httpx.URL(endpoint)
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.raw_host.decode('ascii')}{port}"


def vapid_authorization(credentials: PushCredentials, endpoint: str, now: datetime) -> str:
    """The ``Authorization`` header value for a push to ``endpoint`` (RFC 8292 ``vapid`` scheme).

    Raises ``ValueError`` when py_vapid refuses the claims (an origin it cannot express)."""
    signer = Vapid02(load_private_key(credentials.keys.private_key))
    claims = {
        "aud": origin_of(endpoint),
        "exp": int((now + VAPID_VALIDITY).timestamp()),
        "sub": credentials.subject,
    }
    try:
        headers: dict[str, str] = signer.sign(claims)
    except VapidException as error:
        raise ValueError(f"VAPID claims refused: {error}") from error
    return headers["Authorization"]


def encrypt(target: PushTarget, payload: bytes) -> bytes:
    """``payload`` encrypted for ``target`` with aes128gcm (one record, a fresh ECDH key and
    salt each time). Raises ``ValueError`` for unusable keys."""
    pusher = WebPusher(
        {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
    )
    try:
        encoded = pusher.encode(payload, content_encoding="aes128gcm")
    except (WebPushException, ValueError) as error:
        raise ValueError("the subscription's keys cannot encrypt") from error
    body: bytes = encoded["body"]
    return body


# --- sending -----------------------------------------------------------------------------------


class PushOutcome(StrEnum):
    DELIVERED = "delivered"  #: the push service accepted the message (2xx)
    GONE = "gone"  #: 404 / 410: the subscription no longer exists; forget it
    RETRY = "retry"  #: 408, 429, 5xx, no connection or no answer: try again later
    REFUSED = "refused"  #: any other answer, or an endpoint that may not be called


@dataclass(frozen=True, slots=True)
class PushResult:
    """What became of one push. ``detail`` describes it without the endpoint or the payload."""

    outcome: PushOutcome
    detail: str
    status: int | None = None
    #: The push message's URI (``Location`` of a 201), when the service gave one.
    location: str | None = None


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One notification to one browser."""

    target: PushTarget
    payload: bytes
    ttl: int = DEFAULT_TTL
    #: ``very-low`` | ``low`` | ``normal`` | ``high`` (RFC 8030 §5.3).
    urgency: str = "normal"
    #: At most 32 base64url characters; a newer message of the same topic replaces a queued one.
    topic: str | None = None


def classify(status: int) -> PushOutcome:
    """What a push service's answer means (see the module docstring)."""
    if 200 <= status < 300:
        return PushOutcome.DELIVERED
    if status in (404, 410):
        return PushOutcome.GONE
    if status in (408, 429) or status >= 500:
        return PushOutcome.RETRY
    return PushOutcome.REFUSED


def user_agent() -> str:
    """What relance calls itself on push calls."""
    return f"relance/{__version__} (+webpush)"


class PushClient:
    """Sends Web Push messages under an :class:`AddressPolicy`. Thread-safe.

    ``resolver`` and ``ssl_context`` exist for tests (a fake DNS, a test certificate authority).
    """

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        timeout: httpx.Timeout = PUSH_TIMEOUT,
    ) -> None:
        self._vetting = WebhookClient(policy, resolver=resolver, ssl_context=ssl_context)
        self.ssl_context = ssl_context
        self.timeout = timeout

    def send(self, request: PushRequest, credentials: PushCredentials, now: datetime) -> PushResult:
        """Encrypt, sign and POST one message; never raises for the endpoint's sake."""
        endpoint = request.target.endpoint
        try:
            target = parse_target(endpoint)
        except DeliveryError:
            return PushResult(PushOutcome.REFUSED, "the endpoint is not a valid URL")
        if target.scheme != "https":
            return PushResult(PushOutcome.REFUSED, "the endpoint is not an https URL")
        try:
            body = encrypt(request.target, request.payload)
            authorization = vapid_authorization(credentials, endpoint, now)
        except ValueError as error:
            return PushResult(PushOutcome.REFUSED, str(error))
        headers = {
            "TTL": str(request.ttl),
            "Urgency": request.urgency,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": authorization,
            "User-Agent": user_agent(),
        }
        if request.topic:
            headers["Topic"] = request.topic
        try:
            addresses = self._vetting.vet(target)
        except DeliveryError as error:
            permanent = isinstance(error, PermanentDeliveryError)
            outcome = PushOutcome.REFUSED if permanent else PushOutcome.RETRY
            return PushResult(outcome, str(error))
        last = PushResult(PushOutcome.RETRY, f"could not connect to {target.host}")
        for address in addresses:
            try:
                return self._post(target.url, headers, body, address)
            except _NotConnected as error:
                last = PushResult(PushOutcome.RETRY, f"could not connect to {target.host}: {error}")
        return last

    def _post(
        self, url: httpx.URL, headers: dict[str, str], body: bytes, address: IPAddress
    ) -> PushResult:
        inner = httpx.HTTPTransport(
            verify=self.ssl_context if self.ssl_context is not None else True, trust_env=False
        )
        with httpx.Client(
            transport=PinnedTransport(address, inner=inner),
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            try:
                response = client.post(url, headers=headers, content=body)
            except httpx.ConnectTimeout:
                return PushResult(PushOutcome.RETRY, "no connection within the timeout")
            except httpx.ConnectError as error:
                raise _NotConnected(type(error).__name__) from error
            except httpx.TimeoutException:
                # the push may have been queued; a retry carries the same Topic and tag, so
                # a push service or the browser replaces rather than repeats it
                return PushResult(PushOutcome.RETRY, "no answer within the timeout")
            except httpx.HTTPError as error:
                return PushResult(PushOutcome.RETRY, f"no answer ({type(error).__name__})")
        status = response.status_code
        outcome = classify(status)
        detail = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip()
        if outcome is not PushOutcome.DELIVERED:
            text = " ".join(response.text.split())[:MAX_DETAIL_CHARS]
            if text:
                detail = f"{detail}: {text}"
        location = response.headers.get("location") if outcome is PushOutcome.DELIVERED else None
        return PushResult(outcome, detail, status, location)


class _NotConnected(Exception):
    """No connection to one address, failing at once (the next address is tried)."""
