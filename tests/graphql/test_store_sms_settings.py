"""``storeSmsSettings``: the store's Twilio settings over HTTP on both databases — saved encrypted,
never returned, partial, every problem at once, and used by the SMS channel as saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from relance.channels.twilio import read_settings, stored_settings
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.repositories.stores import get_store
from tests.fixtures.runtime import Clock
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGING_SERVICE_SID
from tests.graphql.dashboard import APP_ID, SigningKey, dashboard_claims, jwks, serve_jwks
from tests.graphql.helpers import Api, bearer, error_codes, fields_and_codes, install_store

SMS = """
    provider accountSid hasAuthToken fromNumber messagingServiceSid quietHoursStart quietHoursEnd
    statusCallbackUrl
"""
MUTATION = f"""
mutation($input: StoreSmsSettingsInput!) {{
  storeSmsSettings(input: $input) {{
    smsSettings {{ {SMS} }}
    errors {{ field code message }}
  }}
}}
"""
KEY = SigningKey("saleor-key-sms")
FIRST = {"accountSid": ACCOUNT_SID, "authToken": AUTH_TOKEN, "fromNumber": "+1 415 555 2671"}


@pytest.fixture
def store_id(runtime: Runtime, clock: Clock) -> UUID:
    return install_store(runtime, "https://sms.example.com/graphql/", at=clock.now)


@pytest.fixture
def headers(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    return bearer(runtime, store_id)


def sms_settings(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = api(MUTATION, {"input": fields}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["storeSmsSettings"]
    return payload


def stored(runtime: Runtime, store_id: UUID) -> dict[str, Any]:
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        return dict(store.channel_settings or {})


def test_first_settings_are_saved_with_the_token_encrypted(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    payload = sms_settings(api, headers, **FIRST)
    assert payload == {
        "smsSettings": {
            "provider": "TWILIO",
            "accountSid": ACCOUNT_SID,
            "hasAuthToken": True,
            "fromNumber": "+14155552671",
            "messagingServiceSid": None,
            "quietHoursStart": "21:00",
            "quietHoursEnd": "08:00",
            "statusCallbackUrl": f"http://relance.test/api/webhooks/twilio/status/{store_id}",
        },
        "errors": [],
    }
    saved = stored(runtime, store_id)
    assert AUTH_TOKEN not in str(saved)  # encrypted at rest
    settings = read_settings(saved, runtime.secrets.decrypt)
    assert settings is not None
    assert settings.account.auth_token == AUTH_TOKEN
    assert settings.account.api_base_url == "https://api.twilio.com"
    assert settings.from_number == "+14155552671"


def test_an_empty_input_reads_the_settings_back_without_the_token(
    api: Api, headers: dict[str, str]
) -> None:
    sms_settings(api, headers, **FIRST)
    body = api(MUTATION, {"input": {}}, headers)
    assert AUTH_TOKEN not in str(body)
    assert body["data"]["storeSmsSettings"]["smsSettings"]["hasAuthToken"] is True


def test_only_the_given_fields_change_and_the_token_is_kept(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID, clock: Clock
) -> None:
    sms_settings(api, headers, **FIRST)
    clock.advance(minutes=5)
    payload = sms_settings(
        api,
        headers,
        fromNumber=None,
        messagingServiceSid=MESSAGING_SERVICE_SID,
        quietHoursStart="22:30",
        quietHoursEnd="07:45",
    )
    assert payload["errors"] == []
    view = payload["smsSettings"]
    assert (view["fromNumber"], view["messagingServiceSid"]) == (None, MESSAGING_SERVICE_SID)
    assert (view["quietHoursStart"], view["quietHoursEnd"]) == ("22:30", "07:45")
    settings = read_settings(stored(runtime, store_id), runtime.secrets.decrypt)
    assert settings is not None
    assert settings.account.auth_token == AUTH_TOKEN
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        assert store.updated_at == clock.now


def test_null_quiet_hours_switch_them_off(api: Api, headers: dict[str, str]) -> None:
    sms_settings(api, headers, **FIRST)
    view = sms_settings(api, headers, quietHoursStart=None, quietHoursEnd=None)["smsSettings"]
    assert (view["quietHoursStart"], view["quietHoursEnd"]) == (None, None)


def test_a_new_account_needs_its_token(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    sms_settings(api, headers, **FIRST)
    other = "AC" + "9" * 32
    payload = sms_settings(api, headers, accountSid=other)
    assert fields_and_codes(payload) == [("authToken", "REQUIRED")]
    assert payload["smsSettings"] is None
    assert sms_settings(api, headers, accountSid=other, authToken="a" * 32)["errors"] == []
    settings = read_settings(stored(runtime, store_id), runtime.secrets.decrypt)
    assert settings is not None
    assert (settings.account.account_sid, settings.account.auth_token) == (other, "a" * 32)


def test_every_problem_is_reported_at_once_and_nothing_is_saved(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    payload = sms_settings(
        api,
        headers,
        accountSid="AC-not-a-sid",
        fromNumber="06 12 34 56 78",
        quietHoursStart="25:00",
        quietHoursEnd="8h",
    )
    assert fields_and_codes(payload) == [
        ("accountSid", "INVALID"),
        ("authToken", "REQUIRED"),
        ("fromNumber", "INVALID"),
        ("quietHoursStart", "INVALID"),
        ("quietHoursEnd", "INVALID"),
    ]
    assert payload["smsSettings"] is None
    assert stored(runtime, store_id) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, [("accountSid", "REQUIRED"), ("authToken", "REQUIRED"), ("fromNumber", "REQUIRED")]),
        ({**FIRST, "authToken": None}, [("authToken", "REQUIRED")]),
        ({**FIRST, "accountSid": None}, [("accountSid", "REQUIRED")]),
        (
            {**FIRST, "messagingServiceSid": MESSAGING_SERVICE_SID},
            [("messagingServiceSid", "INVALID")],
        ),
        ({**FIRST, "quietHoursEnd": None}, [("quietHoursEnd", "REQUIRED")]),
        ({**FIRST, "quietHoursStart": "08:00"}, [("quietHoursEnd", "INVALID")]),
        (
            {**FIRST, "remove": True},
            [("accountSid", "INVALID"), ("authToken", "INVALID"), ("fromNumber", "INVALID")],
        ),
    ],
)
def test_refused_inputs(
    api: Api, headers: dict[str, str], fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert fields_and_codes(sms_settings(api, headers, **fields)) == expected


def test_remove_deletes_only_the_sms_settings(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    sms_settings(api, headers, **FIRST)
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        store.channel_settings = {**store.channel_settings, "push": {"vapid": "kept"}}
    assert sms_settings(api, headers, remove=True) == {"smsSettings": None, "errors": []}
    assert stored(runtime, store_id) == {"push": {"vapid": "kept"}}
    assert stored_settings(stored(runtime, store_id)) is None


def test_other_channels_settings_are_kept_on_update(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        store.channel_settings = {"webhook": {"allow": ["10.0.0.0/8"]}}
    sms_settings(api, headers, **FIRST)
    assert stored(runtime, store_id)["webhook"] == {"allow": ["10.0.0.0/8"]}


def test_the_api_base_url_is_kept_and_not_settable(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID
) -> None:
    sms_settings(api, headers, **FIRST)
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        sms = {**store.channel_settings["sms"], "api_base_url": "http://127.0.0.1:9"}
        store.channel_settings = {"sms": sms}
    sms_settings(api, headers, quietHoursStart="20:00")
    assert stored(runtime, store_id)["sms"]["api_base_url"] == "http://127.0.0.1:9"
    body = api(MUTATION, {"input": {"apiBaseUrl": "http://evil.test"}}, headers)
    assert body["data"] is None  # not a field of the input


def test_each_store_has_its_own_settings(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID, clock: Clock
) -> None:
    other = install_store(runtime, "https://other.example.com/graphql/", at=clock.now)
    sms_settings(api, headers, **FIRST)
    assert stored(runtime, other) == {}
    payload = sms_settings(api, bearer(runtime, other))
    assert fields_and_codes(payload)[0] == ("accountSid", "REQUIRED")


def test_only_managers_may_change_sms_settings(api: Api, runtime: Runtime, clock: Clock) -> None:
    with serve_jwks(jwks(KEY)) as saleor:
        install_store(
            runtime, saleor.api_url, app_id=APP_ID, jwks=jwks(KEY), at=clock.now - timedelta(1)
        )

        def dashboard(*permissions: str) -> dict[str, str]:
            claims = dashboard_claims(
                api_url=saleor.api_url, now=clock.now, user_permissions=permissions
            )
            return {"authorization-bearer": KEY.sign(claims), "saleor-api-url": saleor.api_url}

        refused = api(MUTATION, {"input": FIRST}, dashboard("MANAGE_ORDERS"))
        assert error_codes(refused) == ["FORBIDDEN"]
        assert sms_settings(api, dashboard("MANAGE_USERS"), **FIRST)["errors"] == []
    assert error_codes(api(MUTATION, {"input": FIRST})) == ["UNAUTHENTICATED"]
