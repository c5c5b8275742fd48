"""The SMS channel: render the step's text in the contact's language, send it through Twilio.

``prepare`` decides, in this order (each outcome recorded on the ledger row):

1. the contact has no phone number, or not a valid international one → skipped;
2. the store has no SMS settings → skipped ("no SMS provider configured for this store");
   settings that cannot be read (the token no longer decrypts) → failed;
3. a marketing SMS to a contact who has unsubscribed from SMS since the step ran → skipped;
4. the text, rendered for the contact's language (``pt-BR`` → ``pt`` → the campaign's default),
   is empty → skipped; longer than Twilio's 1,600 characters → failed;
5. a marketing SMS inside the store's quiet hours, in the contact's time zone (the store's as
   fallback) → deferred to the end of the quiet hours (not an attempt: it goes then);
   transactional SMS (order updates) are not held;
6. otherwise it is sent after the claim commits, with a status callback to relance; Twilio's
   message SID becomes the row's ``provider_message_id``.

The row's ``subject`` (unused by SMS) records the encoding and segment count, e.g.
``SMS · 2 segments · GSM-7``.
"""

from __future__ import annotations

from datetime import time

from relance.automation.definitions import SendSmsStep
from relance.automation.schedule import (
    EVERY_DAY,
    DailyWindow,
    next_allowed_time,
    resolve_timezone,
)
from relance.channels.errors import PermanentDeliveryError
from relance.channels.sms_text import analyse
from relance.channels.twilio import (
    MAX_BODY_CHARACTERS,
    OutgoingSms,
    TwilioClient,
    UnreadableSettings,
    e164,
    format_hh_mm,
    read_settings,
    status_callback_url,
)
from relance.tasks.outbound import Deferred, Prepared, SendJob, Skipped
from relance.templates.locales import resolve_language
from relance.templates.text import render_text

NO_PHONE = "no phone number"
INVALID_PHONE = "invalid phone number"
NO_PROVIDER = "no SMS provider configured for this store"
UNSUBSCRIBED = "unsubscribed from SMS"
EMPTY_TEXT = "the SMS text is empty"


def _failing(error: str, to_address: str | None, **recorded: str | None) -> Prepared:
    """A message that fails for good when delivered (recorded failed, never sent)."""

    def deliver() -> str | None:
        raise PermanentDeliveryError(error)

    return Prepared(deliver=deliver, to_address=to_address, **recorded)


def quiet_hours_window(quiet: tuple[time, time]) -> DailyWindow:
    """The hours SMS may go: from the end of the quiet hours to their start."""
    start, end = quiet
    return DailyWindow(start=end, end=start)


def prepare(job: SendJob) -> Prepared | Skipped | Deferred:
    step = job.step
    if not isinstance(step, SendSmsStep):
        return Skipped("the campaign version has no such SMS step")
    contact = job.contact
    if not contact.phone or not contact.phone.strip():
        return Skipped(NO_PHONE)
    phone = e164(contact.phone)
    if phone is None:
        return Skipped(INVALID_PHONE)
    try:
        settings = read_settings(job.store.channel_settings, job.runtime.secrets.decrypt)
    except UnreadableSettings as error:
        return _failing(str(error), phone)
    if settings is None:
        return Skipped(NO_PROVIDER)
    consent = (contact.consents or {}).get("sms")
    if (
        not step.transactional
        and isinstance(consent, dict)
        and consent.get("status") == "unsubscribed"
    ):
        return Skipped(UNSUBSCRIBED)

    default_language = job.definition.default_language or job.store.default_language
    language = resolve_language(contact.language, step.text.keys(), default_language)
    body = render_text(step.text[language], job.context, language)
    if not body:
        return Skipped(EMPTY_TEXT)
    info = analyse(body)
    if info.characters > MAX_BODY_CHARACTERS:
        return _failing(
            f"the SMS text has {info.characters} characters; Twilio takes at most "
            f"{MAX_BODY_CHARACTERS}",
            phone,
            subject=info.summary(),
            language=language,
        )

    if settings.quiet_hours is not None and not step.transactional:
        now = job.runtime.clock()
        zone = resolve_timezone(contact.time_zone, job.store.timezone)
        until = next_allowed_time(
            now, tz=zone, window=quiet_hours_window(settings.quiet_hours), weekdays=EVERY_DAY
        )
        if until > now:
            start, end = (format_hh_mm(moment) for moment in settings.quiet_hours)
            return Deferred(until=until, reason=f"SMS quiet hours ({start}-{end} local time)")

    outgoing = OutgoingSms(
        to=phone,
        body=body,
        from_number=None if settings.messaging_service_sid else settings.from_number,
        messaging_service_sid=settings.messaging_service_sid,
        status_callback=status_callback_url(job.runtime.settings.public_url, job.store.id),
    )
    client = TwilioClient(settings.account)

    def deliver() -> str | None:
        return client.send(outgoing).sid

    return Prepared(deliver=deliver, to_address=phone, subject=info.summary(), language=language)
