"""The store's settings in the admin schema: output types, the input of storeUpdateSettings and
its errors.

Settings read back exactly as stored: ``timeZone`` is the ``timezone`` column, ``senderAddress``
the ``sender`` one. Enum values are the stored values' upper-case names.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.utils.str_converters import to_camel_case

from relance.automation.engine import CapMode, ConsentMode
from relance.automation.validation import Violation
from relance.store import models
from relance.store.repositories import store_settings
from relance.store.repositories.store_settings import KEEP, SettingsChange


@strawberry.enum(name="StoreKind", description="Which platform feeds the store.")
class StoreKindEnum(Enum):
    SALEOR = "saleor"
    GENERIC = "generic"
    DEMO = "demo"


@strawberry.enum(name="ConsentMode", description="Which contacts marketing messages may reach.")
class ConsentModeEnum(Enum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"


@strawberry.enum(
    name="FrequencyCapMode",
    description="What the frequency cap does to a marketing send it catches.",
)
class FrequencyCapModeEnum(Enum):
    SKIP = "skip"
    DEFER = "defer"


@strawberry.type(description="A channel's storefront: where recovery links point.")
class StorefrontUrls:
    channel: str = strawberry.field(
        description="The channel's slug, or `*` for every channel without an entry of its own."
    )
    home: str | None = strawberry.field(
        description="The storefront's home page (used when there is no checkout template)."
    )
    checkout: str | None = strawberry.field(
        description=(
            "The checkout URL template of recovery links: `{token}` (the checkout's token, else "
            "its id), `{checkout_id}` and `{lang}` (the contact's language, else the store's) "
            "are replaced, URL-encoded."
        )
    )


@strawberry.type(
    description="How the store's campaigns behave (change them with storeUpdateSettings)."
)
class StoreSettings:
    sender_name: str | None = strawberry.field(description="The From display name of emails.")
    sender_address: str | None = strawberry.field(
        description="The From address of emails; null: the server's default sender."
    )
    default_language: str = strawberry.field(
        description="BCP 47 tag (`fr`, `pt-BR`) for contacts whose language is unknown."
    )
    time_zone: str = strawberry.field(
        description="IANA time zone for contacts whose own is unknown (`wait_until` steps)."
    )
    abandonment_delay_minutes: int = strawberry.field(
        description="Minutes a checkout must be left alone to count as abandoned."
    )
    storefront_urls: list[StorefrontUrls] = strawberry.field(
        description="Per channel, by slug, `*` last."
    )
    channels: list[str] = strawberry.field(
        description="Slugs of the channels relance acts on; empty: every channel."
    )
    consent_mode: ConsentModeEnum
    frequency_cap_hours: int | None = strawberry.field(
        description="At most one marketing email per contact per this many hours; null: no cap."
    )
    frequency_cap_mode: FrequencyCapModeEnum


def settings_type(store: models.Store) -> StoreSettings:
    """The GraphQL view of a store row's settings."""
    return StoreSettings(
        sender_name=store.sender_name,
        sender_address=store.sender,
        default_language=store.default_language,
        time_zone=store.timezone,
        abandonment_delay_minutes=store.abandonment_delay_minutes,
        storefront_urls=[
            StorefrontUrls(channel=e.channel, home=e.home, checkout=e.checkout)
            for e in store_settings.storefront_entries(store)
        ],
        channels=[str(channel) for channel in store.channels or []],
        consent_mode=ConsentModeEnum(store.consent_mode),
        frequency_cap_hours=store.frequency_cap_hours,
        frequency_cap_mode=FrequencyCapModeEnum(store.frequency_cap_mode),
    )


# --- input ---------------------------------------------------------------------------------


@strawberry.input(description="One channel's storefront URLs (at least one of home, checkout).")
class StorefrontUrlsInput:
    channel: str = strawberry.field(
        description="A channel slug (letters, digits, `-`, `_`), or `*` for every other channel."
    )
    home: str | None = strawberry.field(
        default=None, description="An absolute http(s) URL, without placeholders."
    )
    checkout: str | None = strawberry.field(
        default=None,
        description=(
            "An absolute http(s) URL template; placeholders `{token}`, `{checkout_id}`, `{lang}`."
        ),
    )


@strawberry.input(
    description=(
        "Settings to change: omitted fields stay as they are. null clears senderName, "
        "senderAddress and frequencyCapHours; it is REQUIRED for the other fields."
    )
)
class StoreSettingsInput:
    sender_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters, no line break."
    )
    sender_address: str | None = strawberry.field(
        default=strawberry.UNSET, description="An email address (ASCII local part)."
    )
    default_language: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A BCP 47 tag Babel knows (`fr`, `pt-BR`; Saleor's `PT_BR` is accepted).",
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="An IANA time zone name (`Europe/Paris`)."
    )
    abandonment_delay_minutes: int | None = strawberry.field(
        default=strawberry.UNSET, description="5 to 10080 (7 days)."
    )
    storefront_urls: list[StorefrontUrlsInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces every entry; one per channel, at most 100.",
    )
    channels: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Channel slugs to act on, at most 100; empty: every channel.",
    )
    consent_mode: ConsentModeEnum | None = strawberry.field(default=strawberry.UNSET)
    frequency_cap_hours: int | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 720, or null for no cap."
    )
    frequency_cap_mode: FrequencyCapModeEnum | None = strawberry.field(default=strawberry.UNSET)


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def settings_change(data: StoreSettingsInput) -> SettingsChange:
    """The repository's change for this input: omitted fields are KEEP."""
    urls = data.storefront_urls
    consent = data.consent_mode
    cap_mode = data.frequency_cap_mode
    return SettingsChange(
        sender_name=data.sender_name if _given(data.sender_name) else KEEP,
        sender_address=data.sender_address if _given(data.sender_address) else KEEP,
        default_language=data.default_language if _given(data.default_language) else KEEP,
        time_zone=data.time_zone if _given(data.time_zone) else KEEP,
        abandonment_delay_minutes=(
            data.abandonment_delay_minutes if _given(data.abandonment_delay_minutes) else KEEP
        ),
        storefront_urls=(
            KEEP
            if not _given(urls)
            else None
            if urls is None
            else [
                store_settings.StorefrontUrls(channel=u.channel, home=u.home, checkout=u.checkout)
                for u in urls
            ]
        ),
        channels=data.channels if _given(data.channels) else KEEP,
        consent_mode=(
            KEEP if not _given(consent) else None if consent is None else ConsentMode(consent.value)
        ),
        frequency_cap_hours=data.frequency_cap_hours if _given(data.frequency_cap_hours) else KEEP,
        frequency_cap_mode=(
            KEEP if not _given(cap_mode) else None if cap_mode is None else CapMode(cap_mode.value)
        ),
    )


# --- errors --------------------------------------------------------------------------------


@strawberry.enum(description="Why a store setting was refused.")
class StoreSettingsErrorCode(Enum):
    INVALID = "invalid"
    REQUIRED = "required"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"
    UNKNOWN_PLACEHOLDER = "unknown_placeholder"


@strawberry.type(description="One refused setting.")
class StoreSettingsError:
    field: str | None = strawberry.field(
        description=(
            "The input field's path in StoreSettingsInput: `senderAddress`, "
            "`storefrontUrls.1.checkout`, `channels.3`."
        )
    )
    code: StoreSettingsErrorCode
    message: str


def input_path(path: str) -> str:
    """A repository path (``storefront_urls.1.checkout``) as the input's camelCase path."""
    return ".".join(to_camel_case(part) for part in path.split("."))


def settings_errors(violations: list[Violation]) -> list[StoreSettingsError]:
    """One error per violation, in order, with the input's field names."""
    return [
        StoreSettingsError(
            field=input_path(v.path) if v.path else None,
            code=StoreSettingsErrorCode(v.code),
            message=v.message,
        )
        for v in violations
    ]
