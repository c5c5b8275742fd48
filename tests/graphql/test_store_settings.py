"""The caller's store and its settings: the ``store`` query and ``storeUpdateSettings``, over
HTTP on both databases; the settings rules themselves table-driven, without a database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from relance.automation.engine import CapMode, ConsentMode
from relance.graphql.store_types import (
    ConsentModeEnum,
    FrequencyCapModeEnum,
    StoreKindEnum,
    StoreSettingsErrorCode,
    StoreSettingsInput,
    input_path,
)
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import StoreKind, StoreStatus
from relance.store.repositories.checkouts import recovery_url
from relance.store.repositories.store_settings import (
    COLUMNS,
    KEEP,
    SettingsChange,
    SettingsCode,
    StorefrontUrls,
    check_change,
)
from relance.store.repositories.stores import get_store, mark_disconnected
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

SETTINGS = """
    senderName senderAddress defaultLanguage timeZone abandonmentDelayMinutes
    storefrontUrls { channel home checkout } channels consentMode frequencyCapHours
    frequencyCapMode
"""
STORE = f"query {{ store {{ id kind name apiUrl status installedAt settings {{ {SETTINGS} }} }} }}"
UPDATE = f"""
mutation($input: StoreSettingsInput!) {{
  storeUpdateSettings(input: $input) {{
    store {{ id settings {{ {SETTINGS} }} }}
    errors {{ field code message }}
  }}
}}
"""

DEFAULTS: dict[str, Any] = {
    "senderName": None,
    "senderAddress": None,
    "defaultLanguage": "en",
    "timeZone": "UTC",
    "abandonmentDelayMinutes": 60,
    "storefrontUrls": [],
    "channels": [],
    "consentMode": "OPT_IN",
    "frequencyCapHours": None,
    "frequencyCapMode": "SKIP",
}

API_URL = "https://a.example.com/graphql/"
KEY = SigningKey("saleor-key-1")


@pytest.fixture
def store_id(runtime: Runtime, clock: Clock) -> UUID:
    return install_store(runtime, API_URL, at=clock.now - timedelta(days=1))


@pytest.fixture
def headers(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    return bearer(runtime, store_id)


def read(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    body = api(STORE, headers=headers)
    assert "errors" not in body, body
    store: dict[str, Any] = body["data"]["store"]
    return store


def update(api: Api, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = api(UPDATE, {"input": fields}, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["storeUpdateSettings"]
    return payload


# --- the store query -----------------------------------------------------------------------


def test_the_store_query_shows_the_callers_store_and_its_default_settings(
    api: Api, headers: dict[str, str], store_id: UUID, clock: Clock
) -> None:
    store = read(api, headers)
    assert store == {
        "id": str(store_id),
        "kind": "SALEOR",
        "name": API_URL,
        "apiUrl": API_URL,
        "status": "ACTIVE",
        "installedAt": (clock.now - timedelta(days=1)).isoformat(),
        "settings": DEFAULTS,
    }


def test_a_disconnected_store_says_so(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID, clock: Clock
) -> None:
    with transaction(runtime.sessions) as session:
        assert mark_disconnected(session, store_id, clock.now)
    assert read(api, headers)["status"] == "DISCONNECTED"


def test_me_is_the_same_store(api: Api, headers: dict[str, str], store_id: UUID) -> None:
    body = api("{ me { id settings { timeZone } } }", headers=headers)
    assert body == {"data": {"me": {"id": str(store_id), "settings": {"timeZone": "UTC"}}}}


# --- storeUpdateSettings -------------------------------------------------------------------

EVERYTHING: dict[str, Any] = {
    "senderName": "  Maison Dupont  ",
    "senderAddress": "Bonjour@Maison-Dupont.FR",
    "defaultLanguage": "PT_BR",
    "timeZone": "Europe/Paris",
    "abandonmentDelayMinutes": 90,
    "storefrontUrls": [
        {"channel": "*", "home": "https://shop.example.com"},
        {
            "channel": "channel-pln",
            "home": "https://pl.shop.example.com/",
            "checkout": "https://pl.shop.example.com/{lang}/checkout?token={token}",
        },
    ],
    "channels": ["default-channel", "channel-pln"],
    "consentMode": "OPT_OUT",
    "frequencyCapHours": 24,
    "frequencyCapMode": "DEFER",
}


def test_every_setting_can_be_changed_and_reads_back_normalised(
    api: Api, runtime: Runtime, headers: dict[str, str], store_id: UUID, clock: Clock
) -> None:
    # when every setting is given
    payload = update(api, headers, **EVERYTHING)
    # then they are saved, normalised, and the payload has the store
    expected = {
        **EVERYTHING,
        "senderName": "Maison Dupont",
        "senderAddress": "Bonjour@maison-dupont.fr",
        "defaultLanguage": "pt-BR",
        "storefrontUrls": [
            {
                "channel": "channel-pln",
                "home": "https://pl.shop.example.com/",
                "checkout": "https://pl.shop.example.com/{lang}/checkout?token={token}",
            },
            {"channel": "*", "home": "https://shop.example.com", "checkout": None},
        ],
    }
    assert payload == {"store": {"id": str(store_id), "settings": expected}, "errors": []}
    assert read(api, headers)["settings"] == expected
    # and the rows are what the rest of relance reads
    with runtime.sessions() as session:
        store = get_store(session, store_id)
        assert store is not None
        assert (store.sender, store.timezone, store.consent_mode, store.frequency_cap_mode) == (
            "Bonjour@maison-dupont.fr",
            "Europe/Paris",
            ConsentMode.OPT_OUT,
            CapMode.DEFER,
        )
        assert store.updated_at == clock.now
        link = recovery_url(
            store, channel="channel-pln", token="t/1", checkout_id="Q2g=", language=None
        )
        assert link == "https://pl.shop.example.com/pt-BR/checkout?token=t%2F1"
        other = recovery_url(store, channel="other", token="t", checkout_id="c", language="de")
        assert other == "https://shop.example.com"


def test_only_the_given_settings_change(api: Api, headers: dict[str, str], store_id: UUID) -> None:
    # given a store with every setting set
    update(api, headers, **EVERYTHING)
    before = read(api, headers)["settings"]
    # when only the time zone is given
    payload = update(api, headers, timeZone="America/Sao_Paulo")
    # then only the time zone changed
    assert payload["errors"] == []
    assert read(api, headers)["settings"] == {**before, "timeZone": "America/Sao_Paulo"}
    # and an empty input changes nothing
    assert update(api, headers)["store"]["settings"] == {**before, "timeZone": "America/Sao_Paulo"}


def test_null_clears_what_may_be_empty(api: Api, headers: dict[str, str]) -> None:
    update(api, headers, **EVERYTHING)
    payload = update(
        api, headers, senderName=None, senderAddress="  ", frequencyCapHours=None, channels=[]
    )
    settings = payload["store"]["settings"]
    assert (settings["senderName"], settings["senderAddress"]) == (None, None)
    assert (settings["frequencyCapHours"], settings["channels"]) == (None, [])
    assert update(api, headers, storefrontUrls=[])["store"]["settings"]["storefrontUrls"] == []


def test_null_is_refused_for_settings_that_cannot_be_empty(
    api: Api, headers: dict[str, str]
) -> None:
    payload = update(
        api,
        headers,
        defaultLanguage=None,
        timeZone=None,
        abandonmentDelayMinutes=None,
        storefrontUrls=None,
        channels=None,
        consentMode=None,
        frequencyCapMode=None,
    )
    assert payload["store"] is None
    assert fields_and_codes(payload) == [
        (name, "REQUIRED")
        for name in (
            "defaultLanguage",
            "timeZone",
            "abandonmentDelayMinutes",
            "storefrontUrls",
            "channels",
            "consentMode",
            "frequencyCapMode",
        )
    ]
    assert read(api, headers)["settings"] == DEFAULTS


def test_every_problem_is_reported_at_once_and_nothing_changes(
    api: Api, headers: dict[str, str]
) -> None:
    # given an input with a problem in every field but the enums
    payload = update(
        api,
        headers,
        senderName="Dupont\r\nBcc: everyone@example.com",
        senderAddress="not an address",
        defaultLanguage="xx-YY",
        timeZone="Europe/Atlantis",
        abandonmentDelayMinutes=4,
        storefrontUrls=[
            {"channel": "default-channel", "checkout": "https://s.example.com/c?cart={cart}"},
            {"channel": "not a slug", "home": "javascript:alert(1)"},
            {"channel": "default-channel", "home": "/relative"},
            {"channel": "empty"},
        ],
        channels=["ok", "ok", "n/a"],
        frequencyCapHours=721,
        consentMode="OPT_OUT",
    )
    # then each is named by its path in the input
    assert payload["store"] is None
    assert fields_and_codes(payload) == [
        ("senderName", "INVALID"),
        ("senderAddress", "INVALID"),
        ("defaultLanguage", "INVALID"),
        ("timeZone", "INVALID"),
        ("abandonmentDelayMinutes", "OUT_OF_RANGE"),
        ("storefrontUrls.0.checkout", "UNKNOWN_PLACEHOLDER"),
        ("storefrontUrls.1.channel", "INVALID"),
        ("storefrontUrls.1.home", "INVALID"),
        ("storefrontUrls.2.channel", "DUPLICATE"),
        ("storefrontUrls.2.home", "INVALID"),
        ("storefrontUrls.3", "REQUIRED"),
        ("channels.1", "DUPLICATE"),
        ("channels.2", "INVALID"),
        ("frequencyCapHours", "OUT_OF_RANGE"),
    ]
    assert "{cart}" in payload["errors"][5]["message"]
    # and nothing was saved, not even the valid consent mode
    assert read(api, headers)["settings"] == DEFAULTS


def test_an_enum_value_that_does_not_exist_is_a_graphql_error(
    api: Api, headers: dict[str, str]
) -> None:
    body = api(UPDATE, {"input": {"consentMode": "SOMETIMES"}}, headers)
    assert body["data"] is None
    assert "SOMETIMES" in body["errors"][0]["message"]


def test_api_tokens_and_dashboard_users_with_manage_users_may_change_settings(
    api: Api, runtime: Runtime, clock: Clock
) -> None:
    with serve_jwks(jwks(KEY)) as saleor:
        store_id = install_store(runtime, saleor.api_url, app_id=APP_ID, jwks=jwks(KEY))
        manager = dashboard(saleor, clock, ("MANAGE_USERS",))
        viewer = dashboard(saleor, clock, ("MANAGE_ORDERS",))
        # a Dashboard user without MANAGE_USERS reads the settings but may not change them
        assert read(api, viewer)["id"] == str(store_id)
        refused = api(UPDATE, {"input": {"timeZone": "Europe/Berlin"}}, viewer)
        assert error_codes(refused) == ["FORBIDDEN"]
        assert refused["data"] is None
        # one with MANAGE_USERS may
        assert update(api, manager, timeZone="Europe/Berlin")["errors"] == []
        assert read(api, viewer)["settings"]["timeZone"] == "Europe/Berlin"
    # and nobody anonymous may read or change anything
    assert error_codes(api(STORE)) == ["UNAUTHENTICATED"]
    assert error_codes(api(UPDATE, {"input": {"timeZone": "UTC"}})) == ["UNAUTHENTICATED"]


def dashboard(saleor: JwksServer, clock: Clock, permissions: tuple[str, ...]) -> dict[str, str]:
    claims = dashboard_claims(api_url=saleor.api_url, now=clock.now, user_permissions=permissions)
    return {"authorization-bearer": KEY.sign(claims), "saleor-api-url": saleor.api_url}


def test_the_demo_store_is_of_kind_demo(api: Api, runtime: Runtime, store_id: UUID) -> None:
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        store.kind = StoreKind.DEMO
        store.status = StoreStatus.ACTIVE
    assert read(api, bearer(runtime, store_id))["kind"] == "DEMO"


# --- the rules, without a database ----------------------------------------------------------


def problems(**change: Any) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in check_change(SettingsChange(**change)).violations]


def values(**change: Any) -> dict[str, Any]:
    checked = check_change(SettingsChange(**change))
    assert checked.violations == []
    return checked.values


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("fr", "fr"),
        ("FR", "fr"),
        ("PT_BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("sr-Latn", "sr-Latn"),
    ],
)
def test_languages_are_normalised_bcp47(given: str, stored: str) -> None:
    assert values(default_language=given) == {"default_language": stored}


@pytest.mark.parametrize("tag", ["xx", "en-ZZ", "und", "english", "fr-FR-x-private", "", " "])
def test_languages_babel_does_not_know_as_given_are_refused(tag: str) -> None:
    assert problems(default_language=tag) == [("default_language", "invalid")]


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC"])
def test_iana_time_zones_are_accepted(zone: str) -> None:
    assert values(time_zone=zone) == {"timezone": zone}


@pytest.mark.parametrize("zone", ["CEST", "+02:00", "europe/paris", "/etc/passwd", "../UTC"])
def test_other_time_zones_are_refused(zone: str) -> None:
    assert problems(time_zone=zone) == [("time_zone", "invalid")]


@pytest.mark.parametrize(
    ("minutes", "ok"), [(4, False), (5, True), (60, True), (10_080, True), (10_081, False)]
)
def test_the_abandonment_delay_is_five_minutes_to_thirty_days(minutes: int, ok: bool) -> None:
    expected = [] if ok else [("abandonment_delay_minutes", "out_of_range")]
    assert problems(abandonment_delay_minutes=minutes) == expected


@pytest.mark.parametrize(
    ("hours", "ok"), [(0, False), (1, True), (720, True), (721, False), (None, True)]
)
def test_the_frequency_cap_is_one_to_720_hours_or_none(hours: int | None, ok: bool) -> None:
    assert problems(frequency_cap_hours=hours) == (
        [] if ok else [("frequency_cap_hours", "out_of_range")]
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Maison Dupont", None),
        ("Ünïcødé & Co — ça marche", None),
        ("a" * 200, None),
        ("a" * 201, "too_long"),
        ("line\nbreak", "invalid"),
        ("carriage\rreturn", "invalid"),
        ("tab\there", "invalid"),
    ],
)
def test_sender_names(name: str, problem: str | None) -> None:
    assert problems(sender_name=name) == ([] if problem is None else [("sender_name", problem)])


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("shop@example.com", "shop@example.com"),
        (" Shop@EXAMPLE.com ", "Shop@example.com"),
        ("info@café.fr", "info@café.fr"),
    ],
)
def test_sender_addresses_are_normalised(address: str, stored: str) -> None:
    assert values(sender_address=address) == {"sender": stored}


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "two@@example.com",
        "Shop <shop@example.com>",
        "shop@localhost",
        "ünïcode@example.com",
        "shop@example.com\r\nBcc: x@example.com",
        "a" * 310 + "@example.com",
    ],
)
def test_bad_sender_addresses_are_refused(address: str) -> None:
    [(path, _)] = problems(sender_address=address)
    assert path == "sender_address"


@pytest.mark.parametrize(
    ("template", "code"),
    [
        ("https://s.example.com/checkout/{token}", None),
        ("https://s.example.com/{lang}/c?id={checkout_id}&t={token}", None),
        ("http://localhost:3000/checkout?token={token}", None),
        ("https://{lang}.s.example.com/checkout", None),
        ("https://s.example.com/checkout?token={TOKEN}", "unknown_placeholder"),
        ("https://s.example.com/checkout?token={ token }", "unknown_placeholder"),
        ("https://s.example.com/checkout?token={token", "invalid"),
        ("https://s.example.com/checkout?token=token}", "invalid"),
        ("s.example.com/checkout/{token}", "invalid"),
        ("ftp://s.example.com/{token}", "invalid"),
        ("https:///{token}", "invalid"),
        ("https://s.example.com:99999/{token}", "invalid"),
        ("https://s.example.com/check out/{token}", "invalid"),
        ("https://s.example.com/" + "a" * 2048, "invalid"),
    ],
)
def test_checkout_templates(template: str, code: str | None) -> None:
    urls = [StorefrontUrls(channel="default-channel", checkout=template)]
    expected = [] if code is None else [("storefront_urls.0.checkout", code)]
    assert problems(storefront_urls=urls) == expected


def test_home_pages_take_no_placeholders() -> None:
    urls = [StorefrontUrls(channel="*", home="https://s.example.com/{lang}")]
    assert problems(storefront_urls=urls) == [("storefront_urls.0.home", "invalid")]


def test_channel_slugs() -> None:
    assert values(channels=["default-channel", "Channel_2"]) == {
        "channels": ["default-channel", "Channel_2"]
    }
    assert problems(channels=["*"]) == [("channels.0", "invalid")]
    assert problems(channels=[f"c{i}" for i in range(101)]) == [("channels", "too_many")]
    urls = [StorefrontUrls(channel=f"c{i}", home="https://s.example.com") for i in range(101)]
    assert problems(storefront_urls=urls) == [("storefront_urls", "too_many")]


def test_nothing_given_changes_nothing() -> None:
    assert check_change(SettingsChange()).values == {}
    assert all(getattr(SettingsChange(), name) is KEEP for name in COLUMNS)


def test_the_graphql_input_names_every_setting() -> None:
    # every setting of the repository is a field of the input, and its path is camelCase
    assert set(StoreSettingsInput.__annotations__) == set(COLUMNS)
    assert input_path("storefront_urls.1.checkout") == "storefrontUrls.1.checkout"


def test_enums_match_the_stored_values() -> None:
    assert {m.value for m in ConsentModeEnum} == {m.value for m in ConsentMode}
    assert {m.value for m in FrequencyCapModeEnum} == {m.value for m in CapMode}
    assert {m.value for m in StoreKindEnum} == {m.value for m in StoreKind}
    assert {m.value for m in StoreSettingsErrorCode} == {m.value for m in SettingsCode}
