"""The Twilio client against the local fake (real HTTP), request signatures against Twilio's
documented example, and the SMS settings' rules."""

from __future__ import annotations

import base64
import socket
from dataclasses import asdict
from datetime import time
from uuid import UUID

import httpx
import pytest

from relance.channels.errors import (
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.channels.twilio import (
    AcceptedSms,
    OutgoingSms,
    SettingsValues,
    StoredSmsSettings,
    TwilioAccount,
    TwilioClient,
    TwilioRefused,
    TwilioUnavailable,
    UnreadableSettings,
    check_settings,
    compute_signature,
    e164,
    mask_numbers,
    read_settings,
    signature_matches,
    status_callback_url,
)
from relance.store.crypto import SecretBox
from tests.fixtures.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    INVALID_NUMBER,
    MESSAGING_SERVICE_SID,
    UNSUBSCRIBED_NUMBER,
    FakeTwilio,
)

TO = "+33612345678"
CALLBACK = "https://relance.example.com/api/webhooks/twilio/status/abc"


def client_for(fake: FakeTwilio, token: str = AUTH_TOKEN, **http: object) -> TwilioClient:
    account = TwilioAccount(ACCOUNT_SID, token, fake.base_url)
    return TwilioClient(account, http=httpx.Client(**http) if http else None)  # type: ignore[arg-type]


def sms(**changes: str | None) -> OutgoingSms:
    values: dict[str, str | None] = {
        "to": TO,
        "body": "Bonjour Zoé",
        "from_number": FROM_NUMBER,
        "status_callback": CALLBACK,
    }
    values.update(changes)
    return OutgoingSms(**values)  # type: ignore[arg-type]


# --- sending -----------------------------------------------------------------------------


def test_a_message_is_posted_as_twilio_documents_it(twilio: FakeTwilio) -> None:
    accepted = client_for(twilio).send(sms())
    [request] = twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert dict(request.form) == {
        "To": TO,
        "Body": "Bonjour Zoé",
        "From": FROM_NUMBER,
        "StatusCallback": CALLBACK,
    }
    [message] = twilio.messages
    assert accepted == AcceptedSms(sid=message.sid, status="queued", segments=1)
    assert accepted.sid.startswith("SM")
    assert len(accepted.sid) == 34


def test_a_messaging_service_sends_without_from(twilio: FakeTwilio) -> None:
    accepted = client_for(twilio).send(
        sms(from_number=None, messaging_service_sid=MESSAGING_SERVICE_SID)
    )
    [request] = twilio.requests
    assert request.value("From") is None
    assert request.value("MessagingServiceSid") == MESSAGING_SERVICE_SID
    assert accepted.status == "accepted"


def test_an_sms_has_exactly_one_sender() -> None:
    with pytest.raises(ValueError, match="not both"):
        sms(messaging_service_sid=MESSAGING_SERVICE_SID)
    with pytest.raises(ValueError, match="not both"):
        sms(from_number=None)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"to": INVALID_NUMBER}, 21211),
        ({"to": UNSUBSCRIBED_NUMBER}, 21610),
        ({"from_number": "+15005550009"}, 21606),
        ({"body": "x" * 1601}, 21617),
        ({"from_number": None, "messaging_service_sid": "MG" + "0" * 32}, 21701),
    ],
)
def test_refusals_are_permanent_with_twilios_code(
    twilio: FakeTwilio, change: dict[str, str | None], code: int
) -> None:
    with pytest.raises(TwilioRefused) as caught:
        client_for(twilio).send(sms(**change))
    assert isinstance(caught.value, PermanentDeliveryError)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert f"error {code}" in str(caught.value)
    assert not twilio.messages


def test_refusal_messages_mask_phone_numbers(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioRefused) as caught:
        client_for(twilio).send(sms(to=INVALID_NUMBER))
    assert str(caught.value) == (
        "Twilio HTTP 400, error 21211: Invalid 'To' Phone Number: [number]"
    )


def test_bad_credentials_are_refused(twilio: FakeTwilio) -> None:
    with pytest.raises(TwilioRefused) as caught:
        client_for(twilio, token="0" * 32).send(sms())
    assert (caught.value.status, caught.value.code) == (401, 20003)


@pytest.mark.parametrize(("status", "code"), [(503, None), (500, 20500), (429, 20429)])
def test_overload_and_server_errors_are_transient(
    twilio: FakeTwilio, status: int, code: int | None
) -> None:
    twilio.fail_next(status, code)
    with pytest.raises(TwilioUnavailable) as caught:
        client_for(twilio).send(sms())
    assert isinstance(caught.value, TransientDeliveryError)
    assert caught.value.status == status
    assert not twilio.messages
    client_for(twilio).send(sms())  # the next try goes
    assert len(twilio.messages) == 1


def test_an_unreachable_twilio_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    account = TwilioAccount(ACCOUNT_SID, AUTH_TOKEN, f"http://127.0.0.1:{port}")
    with pytest.raises(TwilioUnavailable, match="could not be reached"):
        TwilioClient(account).send(sms())


def test_no_answer_after_the_request_is_an_unknown_outcome(twilio: FakeTwilio) -> None:
    twilio.slow_next(5)
    with pytest.raises(DeliveryOutcomeUnknown, match="did not answer"):
        client_for(twilio, timeout=httpx.Timeout(5, read=0.3)).send(sms())
    assert len(twilio.messages) == 1  # Twilio had it: resending would duplicate


def test_a_dropped_connection_after_the_request_is_an_unknown_outcome(twilio: FakeTwilio) -> None:
    twilio.drop_next()
    with pytest.raises(DeliveryOutcomeUnknown):
        client_for(twilio).send(sms())
    assert len(twilio.messages) == 1


def test_an_unreadable_success_is_an_unknown_outcome() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(201, text="<html>ok</html>"))
    account = TwilioAccount(ACCOUNT_SID, AUTH_TOKEN, "https://api.twilio.test")
    with pytest.raises(DeliveryOutcomeUnknown, match="without a readable message SID"):
        TwilioClient(account, http=httpx.Client(transport=transport)).send(sms())


def test_the_token_stays_out_of_repr() -> None:
    assert AUTH_TOKEN not in repr(TwilioAccount(ACCOUNT_SID, AUTH_TOKEN))


def test_mask_numbers_keeps_short_numbers() -> None:
    assert mask_numbers("error 21211 for +1 (500) 555-0001, 3 tries") == (
        "error 21211 for [number], 3 tries"
    )


# --- signatures --------------------------------------------------------------------------

#: Twilio's documented example (www.twilio.com/docs/usage/security).
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_the_signature_of_twilios_documented_example() -> None:
    assert compute_signature(DOC_URL, DOC_PARAMS, "12345") == DOC_SIGNATURE
    assert compute_signature(DOC_URL, reversed(DOC_PARAMS), "12345") == DOC_SIGNATURE
    assert signature_matches(DOC_URL, DOC_PARAMS, DOC_SIGNATURE, "12345")


@pytest.mark.parametrize(
    "change",
    [
        {"url": DOC_URL.replace("foo=1", "foo=2")},
        {"params": [*DOC_PARAMS[:-1], ("To", "+18005551213")]},
        {"params": DOC_PARAMS[:-1]},
        {"token": "12346"},
        {"signature": ""},
        {"signature": None},
        {"signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQé"},
    ],
)
def test_any_change_breaks_the_signature(change: dict[str, object]) -> None:
    values: dict[str, object] = {
        "url": DOC_URL,
        "params": DOC_PARAMS,
        "signature": DOC_SIGNATURE,
        "token": "12345",
    }
    values.update(change)
    assert not signature_matches(
        values["url"],  # type: ignore[arg-type]
        values["params"],  # type: ignore[arg-type]
        values["signature"],  # type: ignore[arg-type]
        values["token"],  # type: ignore[arg-type]
    )


def test_a_url_signed_with_or_without_its_default_port_matches() -> None:
    params = [("MessageSid", "SM1"), ("MessageStatus", "sent")]
    with_port = compute_signature("https://r.example.com:443/cb", params, AUTH_TOKEN)
    without = compute_signature("https://r.example.com/cb", params, AUTH_TOKEN)
    assert signature_matches("https://r.example.com/cb", params, with_port, AUTH_TOKEN)
    assert signature_matches("https://r.example.com:443/cb", params, without, AUTH_TOKEN)
    other_port = compute_signature("https://r.example.com:8443/cb", params, AUTH_TOKEN)
    assert not signature_matches("https://r.example.com/cb", params, other_port, AUTH_TOKEN)


def test_the_fake_signs_as_relance_verifies() -> None:
    params = {"MessageStatus": "delivered", "AccountSid": ACCOUNT_SID, "MessageSid": "SMx"}
    signature = FakeTwilio.sign(CALLBACK, params, AUTH_TOKEN)
    assert signature_matches(CALLBACK, params.items(), signature, AUTH_TOKEN)


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("0612345678", None),  # national form: which country?
        ("+3361234", None),
        ("+15558675310", None),  # 555-86… is not an assigned range
        ("call me", None),
        ("", None),
        (None, None),
    ],
)
def test_e164(raw: str | None, expected: str | None) -> None:
    assert e164(raw) == expected


GOOD = SettingsValues(
    account_sid=ACCOUNT_SID,
    auth_token=AUTH_TOKEN,
    from_number="+1 415 555 2671",
    messaging_service_sid=None,
    quiet_hours_start="21:00",
    quiet_hours_end="08:30",
)


def test_good_settings_are_normalised() -> None:
    checked = check_settings(GOOD, has_stored_token=False)
    assert checked.violations == []
    assert checked.from_number == "+14155552671"
    assert checked.quiet_hours == (time(21), time(8, 30))


def problems(**changes: str | None) -> list[tuple[str, str]]:
    values: dict[str, str | None] = {**asdict(GOOD), **changes}
    has_token = values.pop("_has_token", None) is not None
    checked = check_settings(SettingsValues(**values), has_stored_token=has_token)
    return [(v.path, v.code) for v in checked.violations]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"account_sid": None}, [("account_sid", "required")]),
        ({"account_sid": "AC123"}, [("account_sid", "invalid")]),
        ({"account_sid": "AC" + "G" * 32}, [("account_sid", "invalid")]),
        ({"account_sid": "SK" + "0" * 32}, [("account_sid", "invalid")]),
        ({"auth_token": None}, [("auth_token", "required")]),
        ({"auth_token": None, "_has_token": "yes"}, []),
        ({"auth_token": "short"}, [("auth_token", "invalid")]),
        ({"auth_token": "x" * 31 + " "}, [("auth_token", "invalid")]),
        ({"from_number": None}, [("from_number", "required")]),
        ({"from_number": "0612345678"}, [("from_number", "invalid")]),
        ({"from_number": None, "messaging_service_sid": MESSAGING_SERVICE_SID}, []),
        (
            {"messaging_service_sid": MESSAGING_SERVICE_SID},
            [("messaging_service_sid", "invalid")],
        ),
        (
            {"from_number": None, "messaging_service_sid": "MG1"},
            [("messaging_service_sid", "invalid")],
        ),
        ({"quiet_hours_start": None, "quiet_hours_end": None}, []),
        ({"quiet_hours_start": None}, [("quiet_hours_start", "required")]),
        ({"quiet_hours_end": None}, [("quiet_hours_end", "required")]),
        ({"quiet_hours_start": "9pm"}, [("quiet_hours_start", "invalid")]),
        ({"quiet_hours_end": "24:00"}, [("quiet_hours_end", "invalid")]),
        ({"quiet_hours_start": "08:30"}, [("quiet_hours_end", "invalid")]),
        (
            {"account_sid": "x", "auth_token": None, "from_number": "y"},
            [("account_sid", "invalid"), ("auth_token", "required"), ("from_number", "invalid")],
        ),
    ],
)
def test_settings_rules(changes: dict[str, str | None], expected: list[tuple[str, str]]) -> None:
    assert problems(**changes) == expected


def test_read_settings_decrypts_the_token() -> None:
    box = SecretBox("k")
    stored = StoredSmsSettings(
        account_sid=ACCOUNT_SID,
        auth_token_encrypted=box.encrypt(AUTH_TOKEN),
        from_number=FROM_NUMBER,
    )
    settings = read_settings({"sms": stored.model_dump()}, box.decrypt)
    assert settings is not None
    assert settings.account.auth_token == AUTH_TOKEN
    assert settings.account.api_base_url == "https://api.twilio.com"
    assert settings.quiet_hours == (time(21), time(8))  # the default
    assert read_settings({}, box.decrypt) is None
    assert read_settings({"push": {}}, box.decrypt) is None
    with pytest.raises(UnreadableSettings, match="cannot be decrypted"):
        read_settings({"sms": stored.model_dump()}, SecretBox("other").decrypt)
    with pytest.raises(UnreadableSettings, match="malformed"):
        read_settings({"sms": {"provider": "nexmo"}}, box.decrypt)
    no_sender = stored.model_copy(update={"from_number": None})
    with pytest.raises(UnreadableSettings, match="no sender"):
        read_settings({"sms": no_sender.model_dump()}, box.decrypt)


def test_the_status_callback_url() -> None:
    store = UUID("00000000-0000-0000-0000-000000000001")
    assert status_callback_url("https://relance.example.com/", store) == (
        "https://relance.example.com/api/webhooks/twilio/status/00000000-0000-0000-0000-000000000001"
    )
