"""SMS through Twilio: a store's settings, the Messages REST API, and signed status callbacks.

**Settings** live in ``Store.channel_settings["sms"]`` (:class:`StoredSmsSettings`): the account
SID, its auth token encrypted with RELANCE_SECRET_KEY, the sender (an E.164 ``from_number`` or a
``messaging_service_sid``), quiet hours and, for tests only, the API's base URL.
:func:`check_settings` validates them (pure); :func:`read_settings` decrypts them for use.

**Sending** (:class:`TwilioClient`): ``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``,
form-encoded ``To``, ``From`` or ``MessagingServiceSid``, ``Body`` and ``StatusCallback``, with
HTTP basic auth ``AccountSid:AuthToken``. A 2xx answer is the message resource (``sid``,
``status``, ``num_segments``); an error answer is ``{"code", "message", "more_info", "status"}``.
Failures map onto :mod:`relance.channels.errors`:

- the request never reached Twilio (connection refused, connect/write timeout), HTTP 429, or
  HTTP 5xx: :class:`TwilioUnavailable` (transient, retried with back-off);
- any other 4xx — 21211 invalid ``To``, 21610 recipient unsubscribed (replied STOP), 21606
  ``From`` cannot send, 20003 bad credentials…: :class:`TwilioRefused` (permanent);
- the request was sent but no readable answer came (read timeout, connection reset, a 2xx whose
  body is not a message): :class:`~relance.channels.errors.DeliveryOutcomeUnknown` — Twilio may
  have queued it, so it is never resent.

Error messages carry Twilio's HTTP status, error code and message with phone numbers masked.

**Status callbacks**: Twilio POSTs form parameters (``MessageSid``, ``MessageStatus``,
``ErrorCode``…) to the ``StatusCallback`` URL, signed in ``X-Twilio-Signature``: base64 of the
HMAC-SHA1, keyed by the auth token, of the full URL followed by every POST parameter's name and
value, sorted by name (:func:`compute_signature`, :func:`signature_matches`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import phonenumbers
from pydantic import BaseModel, ConfigDict, ValidationError

from relance.automation.validation import Violation
from relance.channels.errors import (
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
API_VERSION = "2010-04-01"
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Where relance receives status callbacks (under RELANCE_PUBLIC_URL).
STATUS_CALLBACK_PATH = "/api/webhooks/twilio/status/{store_id}"
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
#: Twilio's auth tokens are 32 hex characters; a little leeway for other forms.
AUTH_TOKEN = re.compile(r"[A-Za-z0-9]{16,128}")
#: Twilio refuses longer bodies (error 21617).
MAX_BODY_CHARACTERS = 1600
#: Quiet hours when a store sets none: no marketing SMS from 21:00 to 08:00, local time.
DEFAULT_QUIET_HOURS = (time(21), time(8))
#: How long to wait for Twilio: connecting and sending fail fast (then retried); the answer to a
#: request Twilio has received gets longer before the outcome is called unknown.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, write=10.0, read=20.0, pool=5.0)

_PHONE_LIKE = re.compile(r"\+?\d[\d ().-]{5,}\d")
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


# --- errors ------------------------------------------------------------------------------


class TwilioUnavailable(TransientDeliveryError):
    """Not sent this time (Twilio unreachable, 429, 5xx): retry later.

    ``status`` is the HTTP status (None when no answer came), ``code`` Twilio's error code."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class TwilioRefused(PermanentDeliveryError):
    """Twilio refused this message for good (a 4xx other than 429): never retried."""

    def __init__(self, message: str, *, status: int, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


# --- settings ----------------------------------------------------------------------------


def e164(raw: str | None) -> str | None:
    """``raw`` as a valid E.164 number (``+33612345678``), or None. International form only:
    without a country there is no way to read a national number."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_hh_mm(value: str) -> time | None:
    """``"21:00"`` → 21:00; anything else → None."""
    match = _HH_MM.fullmatch(value.strip())
    return time(int(match[1]), int(match[2])) if match else None


def format_hh_mm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


class StoredSmsSettings(BaseModel):
    """The JSON under ``Store.channel_settings["sms"]``. Times are ``"HH:MM"``; quiet hours are
    null when the store has none."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: Literal["twilio"] = "twilio"
    account_sid: str
    auth_token_encrypted: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    quiet_hours_start: str | None = format_hh_mm(DEFAULT_QUIET_HOURS[0])
    quiet_hours_end: str | None = format_hh_mm(DEFAULT_QUIET_HOURS[1])
    #: Only for tests and local fakes; never settable through the API.
    api_base_url: str = DEFAULT_API_BASE_URL


@dataclass(frozen=True, slots=True)
class TwilioAccount:
    """Credentials and endpoint; the token never appears in ``repr``."""

    account_sid: str
    auth_token: str = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """A store's SMS settings, decrypted, ready to send with."""

    account: TwilioAccount
    from_number: str | None
    messaging_service_sid: str | None
    #: ``(start, end)`` local times during which marketing SMS wait; None: no quiet hours.
    quiet_hours: tuple[time, time] | None


class UnreadableSettings(ValueError):
    """The stored SMS settings cannot be used (malformed, or the token does not decrypt)."""


def stored_settings(channel_settings: dict[str, Any] | None) -> StoredSmsSettings | None:
    """The stored SMS settings, None when the store has none. Raises :class:`UnreadableSettings`."""
    raw = (channel_settings or {}).get("sms")
    if not raw:
        return None
    try:
        return StoredSmsSettings.model_validate(raw)
    except ValidationError:
        raise UnreadableSettings("the store's SMS settings are malformed") from None


def read_settings(
    channel_settings: dict[str, Any] | None, decrypt: Callable[[str], str]
) -> SmsSettings | None:
    """The store's SMS settings with the token decrypted, None when it has none.

    Raises :class:`UnreadableSettings` when they are malformed or the token cannot be decrypted
    (RELANCE_SECRET_KEY changed)."""
    stored = stored_settings(channel_settings)
    if stored is None:
        return None
    try:
        token = decrypt(stored.auth_token_encrypted)
    except ValueError:
        raise UnreadableSettings("the store's Twilio auth token cannot be decrypted") from None
    if not stored.from_number and not stored.messaging_service_sid:
        raise UnreadableSettings("the store's SMS settings name no sender")
    start = parse_hh_mm(stored.quiet_hours_start) if stored.quiet_hours_start else None
    end = parse_hh_mm(stored.quiet_hours_end) if stored.quiet_hours_end else None
    return SmsSettings(
        account=TwilioAccount(stored.account_sid, token, stored.api_base_url),
        from_number=stored.from_number,
        messaging_service_sid=stored.messaging_service_sid,
        quiet_hours=(start, end) if start is not None and end is not None else None,
    )


@dataclass(frozen=True, slots=True)
class SettingsValues:
    """Every SMS setting as a merchant gives it (after merging a partial change)."""

    account_sid: str | None
    auth_token: str | None
    from_number: str | None
    messaging_service_sid: str | None
    quiet_hours_start: str | None
    quiet_hours_end: str | None


@dataclass(frozen=True, slots=True)
class CheckedSettings:
    """The outcome of :func:`check_settings`: normalised values, or violations."""

    violations: list[Violation]
    from_number: str | None = None
    quiet_hours: tuple[time, time] | None = None


def check_settings(values: SettingsValues, *, has_stored_token: bool) -> CheckedSettings:
    """Every problem of ``values`` at once (codes ``required`` / ``invalid``; paths are the
    field names). Pure. ``auth_token`` None is fine when a token is stored already.

    Rules: ``account_sid`` matches ``AC`` + 32 hex; a token is given or kept; exactly one of
    ``from_number`` (a valid E.164 number, normalised) and ``messaging_service_sid`` (``MG`` +
    32 hex); quiet hours both ``HH:MM`` and different, or both None (no quiet hours)."""
    problems: list[Violation] = []

    def add(path: str, code: str, message: str) -> None:
        problems.append(Violation(path=path, code=code, message=message))

    if not values.account_sid:
        add("account_sid", "required", "the Twilio account SID is required")
    elif not ACCOUNT_SID.fullmatch(values.account_sid):
        add("account_sid", "invalid", "an account SID is AC followed by 32 hexadecimal digits")
    if values.auth_token is None:
        if not has_stored_token:
            add("auth_token", "required", "the Twilio auth token is required")
    elif not AUTH_TOKEN.fullmatch(values.auth_token):
        add("auth_token", "invalid", "an auth token is 32 letters and digits")
    number = None
    if values.from_number and values.messaging_service_sid:
        add(
            "messaging_service_sid",
            "invalid",
            "give a from number or a messaging service, not both",
        )
    elif not values.from_number and not values.messaging_service_sid:
        add("from_number", "required", "a from number or a messaging service SID is required")
    if values.from_number:
        number = e164(values.from_number)
        if number is None:
            add("from_number", "invalid", "not a valid phone number in E.164 form (+14155552671)")
    if values.messaging_service_sid and not MESSAGING_SERVICE_SID.fullmatch(
        values.messaging_service_sid
    ):
        add(
            "messaging_service_sid",
            "invalid",
            "a messaging service SID is MG followed by 32 hexadecimal digits",
        )
    quiet = None
    start_text, end_text = values.quiet_hours_start, values.quiet_hours_end
    if (start_text is None) != (end_text is None):
        missing = "quiet_hours_start" if start_text is None else "quiet_hours_end"
        add(missing, "required", "quiet hours need a start and an end (or neither)")
    elif start_text is not None and end_text is not None:
        start, end = parse_hh_mm(start_text), parse_hh_mm(end_text)
        if start is None:
            add("quiet_hours_start", "invalid", "a local time HH:MM (21:00)")
        if end is None:
            add("quiet_hours_end", "invalid", "a local time HH:MM (08:00)")
        if start is not None and end is not None:
            if start == end:
                add("quiet_hours_end", "invalid", "quiet hours must end at another time")
            quiet = (start, end)
    if problems:
        return CheckedSettings(violations=problems)
    return CheckedSettings(violations=[], from_number=number, quiet_hours=quiet)


def status_callback_url(public_url: str, store_id: UUID) -> str:
    """The URL Twilio reports a store's message statuses to (signatures are computed over it)."""
    return public_url.rstrip("/") + STATUS_CALLBACK_PATH.format(store_id=store_id)


# --- sending -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS to send: exactly one of ``from_number`` and ``messaging_service_sid``."""

    to: str
    body: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    status_callback: str | None = None

    def __post_init__(self) -> None:
        if (self.from_number is None) == (self.messaging_service_sid is None):
            raise ValueError("an SMS needs a from number or a messaging service SID, not both")


@dataclass(frozen=True, slots=True)
class AcceptedSms:
    """Twilio's answer to a send: the message SID (``SM…``) and its first status."""

    sid: str
    status: str
    segments: int | None = None


_shared_lock = threading.Lock()
_shared: httpx.Client | None = None


def shared_http_client() -> httpx.Client:
    """One connection pool per process for every account (credentials go per request)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        return _shared


def mask_numbers(text: str) -> str:
    """``text`` with phone numbers (and any run of 7+ digits) replaced by ``[number]``."""
    return _PHONE_LIKE.sub(
        lambda m: m[0] if sum(c.isdigit() for c in m[0]) < 7 else "[number]", text
    )


class TwilioClient:
    """Sends SMS with one account. Thread-safe; ``http`` defaults to a shared pool."""

    def __init__(self, account: TwilioAccount, *, http: httpx.Client | None = None) -> None:
        self.account = account
        self._http = http

    @property
    def messages_url(self) -> str:
        base = self.account.api_base_url.rstrip("/")
        return f"{base}/{API_VERSION}/Accounts/{self.account.account_sid}/Messages.json"

    def send(self, sms: OutgoingSms) -> AcceptedSms:
        """Create the message at Twilio. Raises :class:`TwilioUnavailable`,
        :class:`TwilioRefused` or :class:`DeliveryOutcomeUnknown` (see the module docstring)."""
        form = {"To": sms.to, "Body": sms.body}
        if sms.messaging_service_sid is not None:
            form["MessagingServiceSid"] = sms.messaging_service_sid
        if sms.from_number is not None:
            form["From"] = sms.from_number
        if sms.status_callback is not None:
            form["StatusCallback"] = sms.status_callback
        http = self._http or shared_http_client()
        try:
            response = http.post(
                self.messages_url,
                data=form,
                auth=(self.account.account_sid, self.account.auth_token),
                headers={"Accept": "application/json"},
            )
        except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as error:
            raise DeliveryOutcomeUnknown(
                f"Twilio received the message but did not answer ({type(error).__name__})"
            ) from error
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise TwilioRefused("the Twilio API URL is invalid", status=0) from error
        except httpx.TransportError as error:  # connect/write/pool: Twilio never got it whole
            raise TwilioUnavailable(
                f"Twilio could not be reached ({type(error).__name__})"
            ) from error
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> AcceptedSms:
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
                sid = body["sid"]
                if not isinstance(sid, str) or not sid:
                    raise TypeError("sid")
            except (ValueError, KeyError, TypeError) as error:
                raise DeliveryOutcomeUnknown(
                    f"Twilio answered {status} without a readable message SID"
                ) from error
            segments = body.get("num_segments")
            return AcceptedSms(
                sid=sid,
                status=str(body.get("status") or "queued"),
                segments=int(segments) if str(segments or "").isdigit() else None,
            )
        code, message = _error_of(response)
        text = f"Twilio HTTP {status}" + (f", error {code}" if code is not None else "")
        if message:
            text += f": {mask_numbers(message)}"
        if status == 429 or status >= 500:
            raise TwilioUnavailable(text[:900], status=status, code=code)
        raise TwilioRefused(text[:900], status=status, code=code)


def _error_of(response: httpx.Response) -> tuple[int | None, str]:
    """Twilio's error code and message from an error answer (``{"code", "message", …}``)."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    message = body.get("message")
    return (
        code if isinstance(code, int) else None,
        " ".join(str(message).split())[:500] if message else "",
    )


# --- status callbacks --------------------------------------------------------------------


def compute_signature(url: str, params: Iterable[tuple[str, str]], auth_token: str) -> str:
    """Twilio's ``X-Twilio-Signature`` for a POST of ``params`` (name/value pairs) to ``url``:
    base64(HMAC-SHA1(auth token, url + name1 + value1 + name2 + value2 …)), names sorted (and
    a repeated name's values sorted too)."""
    data = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """``url`` as given, without its port if it is the scheme's default, and with it: Twilio
    may have signed either form (its own helper libraries check both)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    variants = [url]
    if default is None or parts.hostname is None:
        return variants
    try:
        port = parts.port
    except ValueError:
        return variants
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if port is None:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}")))
    elif port == default:
        variants.append(urlunsplit(parts._replace(netloc=f"{prefix}{host}")))
    return variants


def signature_matches(
    url: str, params: Iterable[tuple[str, str]], signature: str | None, auth_token: str
) -> bool:
    """True when ``signature`` is Twilio's for this URL and these parameters (constant time)."""
    if not signature:
        return False
    pairs = list(params)
    return any(
        hmac.compare_digest(
            compute_signature(variant, pairs, auth_token).encode(), signature.encode()
        )
        for variant in _url_variants(url)
    )
