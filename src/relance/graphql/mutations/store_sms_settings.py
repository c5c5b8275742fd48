"""``storeSmsSettings(input)``: set the caller's store's SMS provider (Twilio) and quiet hours.

Partial like storeUpdateSettings: omitted fields keep their stored value, so ``input: {}`` just
reads the settings back. The auth token is write-only: it is stored encrypted and never returned
(``hasAuthToken``); omitting it keeps the stored one unless the account SID changes. The rules
are :func:`relance.channels.twilio.check_settings`'s; ``remove: true`` deletes the settings
(SMS messages are then skipped with "no SMS provider configured for this store").
"""

from __future__ import annotations

from enum import Enum
from uuid import UUID

import strawberry
from sqlalchemy.orm import Session

from relance.automation.validation import Violation
from relance.channels.twilio import (
    DEFAULT_API_BASE_URL,
    DEFAULT_QUIET_HOURS,
    SettingsValues,
    StoredSmsSettings,
    UnreadableSettings,
    check_settings,
    format_hh_mm,
    status_callback_url,
    stored_settings,
)
from relance.graphql.context import Info
from relance.graphql.permissions import CanManage, IsAdmin
from relance.graphql.store_types import StoreSettingsError, settings_errors
from relance.store.models import Store


@strawberry.enum(name="SmsProvider", description="Who delivers the store's SMS.")
class SmsProviderEnum(Enum):
    TWILIO = "twilio"


@strawberry.type(description="The store's SMS provider and quiet hours (the token is never shown).")
class SmsSettings:
    provider: SmsProviderEnum
    account_sid: str = strawberry.field(description="The Twilio account SID (`AC…`).")
    has_auth_token: bool = strawberry.field(
        description="Whether an auth token is stored (it is write-only)."
    )
    from_number: str | None = strawberry.field(
        description="The sender, an E.164 number (`+14155552671`); null with a messaging service."
    )
    messaging_service_sid: str | None = strawberry.field(
        description="The Twilio messaging service (`MG…`) that picks the sender; else null."
    )
    quiet_hours_start: str | None = strawberry.field(
        description=(
            "`HH:MM`: from this local time (the contact's time zone, else the store's) marketing "
            "SMS wait until quietHoursEnd; null: no quiet hours."
        )
    )
    quiet_hours_end: str | None = strawberry.field(description="`HH:MM`: when SMS may go again.")
    status_callback_url: str = strawberry.field(
        description="Where Twilio reports delivery (sent with every message; nothing to set up)."
    )


@strawberry.input(
    description=(
        "SMS settings to change: omitted fields stay as they are. The first call needs "
        "accountSid, authToken and fromNumber or messagingServiceSid. null clears fromNumber, "
        "messagingServiceSid and (both together) the quiet hours; it is REQUIRED elsewhere."
    )
)
class StoreSmsSettingsInput:
    account_sid: str | None = strawberry.field(
        default=strawberry.UNSET, description="`AC` followed by 32 hexadecimal digits."
    )
    auth_token: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The account's auth token (write-only, stored encrypted). Omitted: the stored one is "
            "kept, unless accountSid changes."
        ),
    )
    from_number: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A Twilio number in E.164 form (`+14155552671`); or give messagingServiceSid.",
    )
    messaging_service_sid: str | None = strawberry.field(
        default=strawberry.UNSET, description="`MG` followed by 32 hexadecimal digits."
    )
    quiet_hours_start: str | None = strawberry.field(
        default=strawberry.UNSET, description="`HH:MM`, 24-hour clock; default 21:00."
    )
    quiet_hours_end: str | None = strawberry.field(
        default=strawberry.UNSET, description="`HH:MM`, 24-hour clock; default 08:00."
    )
    remove: bool = strawberry.field(
        default=False,
        description="true deletes the store's SMS settings (give no other field).",
    )


@strawberry.type(
    description="Result of storeSmsSettings: smsSettings XOR errors (neither after a remove)."
)
class StoreSmsSettings:
    sms_settings: SmsSettings | None
    errors: list[StoreSettingsError]


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def _view(stored: StoredSmsSettings, public_url: str, store_id: UUID) -> SmsSettings:
    return SmsSettings(
        provider=SmsProviderEnum(stored.provider),
        account_sid=stored.account_sid,
        has_auth_token=bool(stored.auth_token_encrypted),
        from_number=stored.from_number,
        messaging_service_sid=stored.messaging_service_sid,
        quiet_hours_start=stored.quiet_hours_start,
        quiet_hours_end=stored.quiet_hours_end,
        status_callback_url=status_callback_url(public_url, store_id),
    )


def _merge(data: StoreSmsSettingsInput, existing: StoredSmsSettings | None) -> SettingsValues:
    """Every setting after the change: given values, else the stored ones, else defaults."""
    default_start, default_end = (format_hh_mm(moment) for moment in DEFAULT_QUIET_HOURS)

    def pick(name: str, default: str | None) -> str | None:
        value = getattr(data, name)
        if _given(value):
            return value  # type: ignore[no-any-return]
        return getattr(existing, name) if existing is not None else default

    return SettingsValues(
        account_sid=pick("account_sid", None),
        auth_token=data.auth_token if _given(data.auth_token) else None,
        from_number=pick("from_number", None),
        messaging_service_sid=pick("messaging_service_sid", None),
        quiet_hours_start=pick("quiet_hours_start", default_start),
        quiet_hours_end=pick("quiet_hours_end", default_end),
    )


def _null_problems(data: StoreSmsSettingsInput) -> list[Violation]:
    return [
        Violation(path=name, code="required", message=f"{name} cannot be null")
        for name in ("account_sid", "auth_token")
        if _given(getattr(data, name)) and getattr(data, name) is None
    ]


async def store_sms_settings(info: Info, input: StoreSmsSettingsInput) -> StoreSmsSettings:
    store_id = info.context.store_id
    runtime = info.context.runtime
    if input.remove:
        named = [
            name
            for name in (
                "account_sid",
                "auth_token",
                "from_number",
                "messaging_service_sid",
                "quiet_hours_start",
                "quiet_hours_end",
            )
            if _given(getattr(input, name))
        ]
        if named:
            problems = [Violation(name, "invalid", "remove takes no other field") for name in named]
            return StoreSmsSettings(sms_settings=None, errors=settings_errors(problems))
    null_problems = _null_problems(input)
    if null_problems:
        return StoreSmsSettings(sms_settings=None, errors=settings_errors(null_problems))

    def save(session: Session) -> StoreSmsSettings:
        # locked: other channels' settings share the column and may change concurrently
        store = session.get(Store, store_id, with_for_update=True)
        assert store is not None  # the caller's store exists (authentication found it)
        now = runtime.clock()
        others = {k: v for k, v in (store.channel_settings or {}).items() if k != "sms"}
        if input.remove:
            store.channel_settings = others
            store.updated_at = now
            return StoreSmsSettings(sms_settings=None, errors=[])
        try:
            existing = stored_settings(store.channel_settings)
        except UnreadableSettings:
            existing = None
        values = _merge(input, existing)
        keeps_token = existing is not None and existing.account_sid == values.account_sid
        checked = check_settings(values, has_stored_token=keeps_token)
        if checked.violations:
            return StoreSmsSettings(sms_settings=None, errors=settings_errors(checked.violations))
        if values.auth_token is not None:
            token_encrypted = runtime.secrets.encrypt(values.auth_token)
        else:
            assert existing is not None  # check_settings required a token otherwise
            token_encrypted = existing.auth_token_encrypted
        quiet = checked.quiet_hours
        stored = StoredSmsSettings(
            account_sid=values.account_sid or "",
            auth_token_encrypted=token_encrypted,
            from_number=checked.from_number,
            messaging_service_sid=values.messaging_service_sid or None,
            quiet_hours_start=format_hh_mm(quiet[0]) if quiet else None,
            quiet_hours_end=format_hh_mm(quiet[1]) if quiet else None,
            api_base_url=existing.api_base_url if existing else DEFAULT_API_BASE_URL,
        )
        if stored != existing:
            store.channel_settings = {**others, "sms": stored.model_dump()}
            store.updated_at = now
        return StoreSmsSettings(
            sms_settings=_view(stored, runtime.settings.public_url, store_id), errors=[]
        )

    return await info.context.in_transaction(save)


field = strawberry.mutation(
    resolver=store_sms_settings,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "Set the caller's store's SMS provider (Twilio: account SID, auth token, sender) and "
        "quiet hours; only the fields given change, all or nothing, every refused field "
        "reported at once. `input: {}` reads them back. Needs MANAGE_USERS (Dashboard) or an "
        "API token."
    ),
)
