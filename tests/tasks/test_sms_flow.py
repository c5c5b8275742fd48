"""SMS end to end: a published campaign's ``send_sms`` step → a real HTTP POST to the fake Twilio
→ the message SENT with Twilio's SID → a signed status callback → delivered. Quiet hours defer in
the contact's time zone and then send; Twilio's 503 is retried; 21211 fails; SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from starlette.applications import Starlette

from relance.automation.contacts import ContactUpdate
from relance.automation.events import EventType
from relance.channels.twilio import StoredSmsSettings
from relance.handlers import twilio as twilio_handlers
from relance.runtime import Runtime
from relance.store.models import Message, MessageStatus
from tests.fixtures.campaigns import CampaignShop, event, inline_runtime, install_demo_store
from tests.fixtures.http import serve
from tests.fixtures.runtime import Clock
from tests.fixtures.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    INVALID_NUMBER,
    MESSAGING_SERVICE_SID,
    FakeTwilio,
)

PHONE = "+33612345678"
PUBLIC_URL = "http://relance.test"  # make_runtime's RELANCE_PUBLIC_URL


@dataclass
class Shop(CampaignShop):
    twilio: FakeTwilio

    def configure_sms(self, **changes: Any) -> None:
        values: dict[str, Any] = {
            "account_sid": ACCOUNT_SID,
            "auth_token_encrypted": self.runtime.secrets.encrypt(AUTH_TOKEN),
            "from_number": FROM_NUMBER,
            "api_base_url": self.twilio.base_url,
            **changes,
        }
        self.set_store(channel_settings={"sms": StoredSmsSettings(**values).model_dump()})

    def launch(self, *steps: dict[str, Any], default_language: str | None = None) -> UUID:
        definition: dict[str, Any] = {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": steps[0]["id"],
            "steps": list(steps),
        }
        if default_language:
            definition["default_language"] = default_language
        return self.publish(definition, name="sms")

    def signs_up(self, phone: str | None = PHONE, **contact: Any) -> None:
        email = contact.pop("email", "ada@example.com")
        update = ContactUpdate(email=email, first_name="Ada", phone=phone, **contact)
        self.send(event(EventType.CUSTOMER_SIGNED_UP, at=self.clock(), contact=update))

    def message(self) -> Message:
        messages: list[Message] = self.rows(Message)
        [message] = messages
        return message


def sms_step(text: dict[str, str] | None = None, **more: Any) -> dict[str, Any]:
    return {
        "type": "send_sms",
        "id": "sms",
        "text": text or {"en": "Hi {{ contact.first_name }}, welcome to {{ store.name }}!"},
        **more,
    }


@pytest.fixture
def callbacks(twilio: FakeTwilio) -> Iterator[Callable[[Runtime], None]]:
    """Serve relance's Twilio route for a runtime; the fake reaches it through the public URL."""
    with ExitStack() as stack:

        def start(runtime: Runtime) -> None:
            app = Starlette(routes=twilio_handlers.routes())
            app.state.runtime = runtime
            client = stack.enter_context(serve(app))
            twilio.routes[PUBLIC_URL] = str(client.base_url).rstrip("/")

        yield start


@pytest.fixture
def shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    clock: Clock,
    twilio: FakeTwilio,
    callbacks: Callable[[Runtime], None],
) -> Shop:
    runtime = inline_runtime(make_runtime, database_url)
    store_id = install_demo_store(
        runtime, now=clock(), name="Atelier", consent_mode="opt_out", timezone="Europe/Paris"
    )
    callbacks(runtime)
    shop = Shop(runtime, clock, store_id, twilio=twilio)
    shop.configure_sms()
    return shop


def test_an_sms_goes_to_twilio_and_its_delivery_comes_back(shop: Shop) -> None:
    shop.launch(sms_step())
    shop.signs_up(phone="+33 6 12 34 56 78", time_zone="Europe/Paris")

    [request] = shop.twilio.requests
    assert dict(request.form) == {
        "To": PHONE,
        "From": FROM_NUMBER,
        "Body": "Hi Ada, welcome to Atelier!",
        "StatusCallback": f"{PUBLIC_URL}/api/webhooks/twilio/status/{shop.store_id}",
    }
    [sent] = shop.twilio.messages
    message = shop.message()
    assert (message.channel, message.status) == ("sms", MessageStatus.SENT)
    assert message.provider_message_id == sent.sid
    assert message.to_address == PHONE
    assert message.subject == "SMS · 1 segment · GSM-7"
    assert message.language == "en"
    assert message.sent_at == shop.clock()
    assert message.delivery_status is None

    assert shop.twilio.report(sent.sid, "sent").status_code == 200
    assert shop.message().delivery_status == "sent"
    shop.clock.advance(seconds=4)
    assert shop.twilio.report(sent.sid, "delivered").status_code == 200
    delivered = shop.message()
    assert delivered.delivery_status == "delivered"
    assert delivered.delivered_at == shop.clock()
    assert delivered.status == MessageStatus.SENT

    shop.clock.advance(seconds=4)  # a repeated or late report changes nothing
    assert shop.twilio.report(sent.sid, "delivered").status_code == 200
    assert shop.twilio.report(sent.sid, "sent").status_code == 200
    again = shop.message()
    assert (again.delivery_status, again.delivered_at) == ("delivered", delivered.delivered_at)
    assert len(shop.twilio.messages) == 1


def test_the_contacts_language_picks_the_text(shop: Shop) -> None:
    shop.launch(
        sms_step({"en": "Hello", "pt": "Olá {{ contact.first_name }}, até já — ção"}),
        default_language="en",
    )
    shop.signs_up(language="pt-BR")
    [message] = shop.twilio.messages
    assert message.body == "Olá Ada, até já — ção"
    row = shop.message()
    assert row.language == "pt"
    assert row.subject == "SMS · 1 segment · UCS-2"


def test_a_long_text_counts_its_segments(shop: Shop) -> None:
    shop.launch(sms_step({"en": "x" * 200 + " {{ contact.first_name }}"}))
    shop.signs_up()
    assert shop.message().subject == "SMS · 2 segments · GSM-7"


def test_quiet_hours_defer_until_morning_in_the_contacts_zone(shop: Shop) -> None:
    shop.clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 22:30 in Paris
    shop.launch(sms_step())
    shop.signs_up(time_zone="Europe/Paris")

    assert shop.twilio.requests == []
    waiting = shop.message()
    assert waiting.status == MessageStatus.PENDING
    assert waiting.next_attempt_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 Paris
    assert waiting.attempts == 0
    assert waiting.error == "SMS quiet hours (21:00-08:00 local time)"

    shop.later(hours=9)  # 06:30 UTC, 07:30 in Paris: still quiet
    assert shop.twilio.requests == []
    shop.later(minutes=30)
    sent = shop.message()
    assert sent.status == MessageStatus.SENT
    assert sent.sent_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert sent.error is None
    assert len(shop.twilio.messages) == 1


def test_quiet_hours_use_the_stores_zone_without_the_contacts(shop: Shop) -> None:
    shop.set_store(timezone="America/New_York")
    shop.configure_sms(quiet_hours_start="22:00", quiet_hours_end="09:30")
    shop.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 07:00 in New York
    shop.launch(sms_step())
    shop.signs_up()
    assert shop.message().next_attempt_at == datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
    assert shop.message().error == "SMS quiet hours (22:00-09:30 local time)"


def test_without_quiet_hours_an_sms_goes_at_night(shop: Shop) -> None:
    shop.configure_sms(quiet_hours_start=None, quiet_hours_end=None)
    shop.clock.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    shop.launch(sms_step())
    shop.signs_up(time_zone="Europe/Paris")
    assert shop.message().status == MessageStatus.SENT


def test_a_transactional_sms_is_not_held_by_quiet_hours(shop: Shop) -> None:
    shop.clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    shop.launch(sms_step(transactional=True))
    shop.signs_up(time_zone="Europe/Paris")
    assert shop.message().status == MessageStatus.SENT


def test_a_contact_who_unsubscribes_during_quiet_hours_gets_nothing(shop: Shop) -> None:
    shop.clock.now = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)
    shop.launch(sms_step())
    shop.signs_up(time_zone="Europe/Paris")
    shop.set_contacts(consents={"sms": {"status": "unsubscribed", "source": "sms_stop"}})
    shop.later(hours=10)
    message = shop.message()
    assert (message.status, message.error) == (MessageStatus.SKIPPED, "unsubscribed from SMS")
    assert shop.twilio.requests == []


def test_twilio_unavailable_is_retried_with_back_off(shop: Shop) -> None:
    shop.twilio.fail_next(503)
    shop.launch(sms_step())
    shop.signs_up()
    waiting = shop.message()
    assert (waiting.status, waiting.attempts) == (MessageStatus.PENDING, 1)
    assert waiting.next_attempt_at == shop.clock() + timedelta(minutes=1)
    assert waiting.error == "Twilio HTTP 503, error 50300: Fault"
    assert shop.twilio.messages == []

    shop.later(seconds=30)  # not yet due
    assert len(shop.twilio.requests) == 1
    shop.later(seconds=30)
    sent = shop.message()
    assert (sent.status, sent.attempts, sent.error) == (MessageStatus.SENT, 2, None)
    assert sent.provider_message_id == shop.twilio.messages[0].sid
    assert len(shop.twilio.requests) == 2


def test_an_invalid_number_fails_without_retry(shop: Shop) -> None:
    shop.launch(sms_step())
    shop.signs_up(phone=INVALID_NUMBER)
    failed = shop.message()
    assert failed.status == MessageStatus.FAILED
    assert failed.error == "Twilio HTTP 400, error 21211: Invalid 'To' Phone Number: [number]"
    shop.later(hours=3)
    assert len(shop.twilio.requests) == 1


def test_a_lost_answer_is_recorded_unknown_and_never_resent(shop: Shop) -> None:
    shop.twilio.drop_next()
    shop.launch(sms_step())
    shop.signs_up()
    assert shop.message().status == MessageStatus.UNKNOWN
    shop.later(hours=3)
    assert len(shop.twilio.requests) == 1


def test_a_messaging_service_picks_the_sender(shop: Shop) -> None:
    shop.configure_sms(from_number=None, messaging_service_sid=MESSAGING_SERVICE_SID)
    shop.launch(sms_step())
    shop.signs_up()
    [request] = shop.twilio.requests
    assert request.value("MessagingServiceSid") == MESSAGING_SERVICE_SID
    assert request.value("From") is None
    assert shop.message().status == MessageStatus.SENT


def test_an_undelivered_report_keeps_twilios_error_code(shop: Shop) -> None:
    shop.launch(sms_step())
    shop.signs_up()
    [sent] = shop.twilio.messages
    assert shop.twilio.report(sent.sid, "undelivered", error_code=30003).status_code == 200
    message = shop.message()
    assert (message.status, message.delivery_status) == (MessageStatus.SENT, "undelivered")
    assert message.error == "undelivered: Twilio error 30003 (unreachable destination handset)"
    assert message.delivered_at is None


@pytest.mark.parametrize(
    ("phone", "reason"),
    [(None, "no phone number"), ("+15558675310", "invalid phone number")],
)
def test_contacts_without_a_usable_number_are_skipped(
    shop: Shop, phone: str | None, reason: str
) -> None:
    shop.launch(sms_step())
    shop.signs_up(phone=phone)
    message = shop.message()
    assert (message.status, message.error) == (MessageStatus.SKIPPED, reason)
    assert shop.twilio.requests == []


def test_a_store_without_sms_settings_skips(shop: Shop) -> None:
    shop.set_store(channel_settings={})
    shop.launch(sms_step())
    shop.signs_up()
    message = shop.message()
    assert message.status == MessageStatus.SKIPPED
    assert message.error == "no SMS provider configured for this store"


def test_a_token_that_no_longer_decrypts_fails_clearly(shop: Shop) -> None:
    shop.configure_sms(auth_token_encrypted="not-a-fernet-token")
    shop.launch(sms_step())
    shop.signs_up()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert message.error == "the store's Twilio auth token cannot be decrypted"
    assert shop.twilio.requests == []


def test_an_empty_text_is_skipped(shop: Shop) -> None:
    shop.launch(sms_step({"en": "{{ contact.nickname }}"}))
    shop.signs_up()
    assert (shop.message().status, shop.message().error) == (
        MessageStatus.SKIPPED,
        "the SMS text is empty",
    )


def test_a_text_that_does_not_render_fails(shop: Shop) -> None:
    shop.launch(sms_step({"en": "Hi {{ contact.first_name }"}))
    shop.signs_up()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert (message.error or "").startswith("render: ")
    assert shop.twilio.requests == []
