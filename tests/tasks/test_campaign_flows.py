"""Campaigns run end to end: events in, the engine's decisions carried out, email out over SMTP.

Each test publishes a small campaign straight into the database, sends domain events through the
inbox, moves a controllable clock and sweeps, as a worker would. Designs come from a tiny library
written for the test, so what the emails show is exactly what the test checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from relance.automation.contacts import ContactUpdate
from relance.automation.events import CartSnapshot, DomainEvent, EventType
from relance.channels.smtp import SmtpTransport
from relance.runtime import Runtime
from relance.store.models import (
    CampaignVersion,
    Contact,
    Enrollment,
    EnrollmentStatus,
    ListMember,
    Message,
    MessageStatus,
    Purchase,
    VersionStatus,
)
from relance.tasks.dates import raise_date_events
from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer
from tests.fixtures.campaigns import CampaignShop, event, inline_runtime, install_demo_store, order
from tests.fixtures.runtime import Clock
from tests.fixtures.smtp import SmtpSink

_MJML = """<mjml><mj-body><mj-section><mj-column><mj-text>
{name}|{{{{ contact.gender }}}}|{{{{ discount.code }}}}|{{{{ cart.total }}}}
</mj-text></mj-column></mj-section></mj-body></mjml>"""


def _write_designs(root: Path) -> None:
    for name in ("note", "female", "male", "neutral", "reminder"):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "design.json").write_text(
            json.dumps({"name": name, "subjects": {"en": f"{name} {{{{ contact.first_name }}}}"}})
        )
        (folder / "en.mjml").write_text(_MJML.format(name=name))
        (folder / "en.txt").write_text(
            name + " code={{ discount.code }} gender={{ contact.gender }}\n"
        )


@dataclass
class Shop(CampaignShop):
    sink: SmtpSink

    def launch(self, definition: dict[str, Any], name: str = "test") -> UUID:
        """Publish ``definition`` as a new campaign; returns the campaign id."""
        return self.publish(definition, name=name)

    def subjects(self) -> list[str]:
        return [str(mail.message["Subject"]) for mail in self.sink.received]


@pytest.fixture
def shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    smtp_sink: SmtpSink,
    clock: Clock,
    tmp_path: Path,
) -> Shop:
    _write_designs(tmp_path / "designs")
    runtime = inline_runtime(
        make_runtime,
        database_url,
        email_transport=SmtpTransport(smtp_sink.url),
        renderer=EmailRenderer(DesignLibrary(tmp_path / "designs", recheck_after=0)),
    )
    store_id = install_demo_store(runtime, now=clock(), name="Shop", consent_mode="opt_out")
    return Shop(runtime, clock, store_id, sink=smtp_sink)


def email_step(
    step_id: str, design: str = "note", nxt: str | None = None, **more: Any
) -> dict[str, Any]:
    return {"type": "send_email", "id": step_id, "design": design, "next": nxt, **more}


def test_a_delay_holds_the_second_email_until_its_time(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": "first",
            "steps": [
                email_step("first", nxt="wait"),
                {"type": "delay", "id": "wait", "seconds": 2 * 86400, "next": "second"},
                email_step("second", "reminder"),
            ],
        }
    )
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    shop.sink.wait_for(1)
    shop.later(days=1)
    assert len(shop.sink.received) == 1
    shop.later(days=1, seconds=1)
    shop.sink.wait_for(2)
    assert shop.subjects() == ["note Ada", "reminder Ada"]
    [enrollment] = shop.rows(Enrollment)
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_an_exit_event_removes_a_waiting_contact_at_once(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["cart.abandoned"]},
            "repeatability": "after_exit",
            "exit_rules": [{"type": "event", "event": "order.placed"}],
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 7200, "next": "remind"},
                email_step("remind"),
            ],
        }
    )
    shop.send(event(EventType.CART_ABANDONED))
    shop.later(minutes=30)
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    shop.later(hours=3)
    assert shop.sink.received == []
    [enrollment] = shop.rows(Enrollment)
    assert (enrollment.status, enrollment.end_reason) == (
        EnrollmentStatus.EXITED,
        "exit_event:order.placed",
    )
    assert ("remind", "exited", "exit_event:order.placed") in shop.trace()
    # and, having exited, the contact may enter again (after_exit)
    shop.send(event(EventType.CART_ABANDONED))
    assert len(shop.rows(Enrollment)) == 2


def test_a_split_on_gender_chooses_the_design(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "gender",
            "steps": [
                {
                    "type": "update_contact",
                    "id": "gender",
                    "actions": [{"op": "set_field", "field": "gender", "value": "female"}],
                    "next": "split",
                },
                {
                    "type": "split",
                    "id": "split",
                    "branches": [
                        {
                            "label": "female",
                            "condition": {
                                "type": "contact_field",
                                "field": "gender",
                                "op": "eq",
                                "value": "female",
                            },
                            "next": "f",
                        },
                        {
                            "label": "male",
                            "condition": {
                                "type": "contact_field",
                                "field": "gender",
                                "op": "eq",
                                "value": "male",
                            },
                            "next": "m",
                        },
                    ],
                    "default_next": "n",
                },
                email_step("f", "female"),
                email_step("m", "male"),
                email_step("n", "neutral"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    [mail] = shop.sink.wait_for(1)
    assert str(mail.message["Subject"]) == "female Ada"
    assert ("split", "branch", "female") in shop.trace()


def test_a_discount_code_is_created_once_and_shown_in_the_next_email(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "code",
            "steps": [
                {
                    "type": "create_discount",
                    "id": "code",
                    "kind": "percentage",
                    "value": "15",
                    "valid_days": 7,
                    "prefix": "WELCOME",
                    "next": "mail",
                },
                email_step("mail", "reminder"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    [mail] = shop.sink.wait_for(1)
    [enrollment] = shop.rows(Enrollment)
    code = enrollment.context["discount"]["code"]
    assert code.startswith("WELCOME-")
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"code={code}" in text
    assert enrollment.context["discount"]["value"] == "15"
    expires = datetime.fromisoformat(enrollment.context["discount"]["expires_at"])
    assert expires == shop.clock() + timedelta(days=7)


def test_a_store_without_a_discount_provider_ends_the_enrollment_clearly(shop: Shop) -> None:
    shop.runtime.discount_providers = {}
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "code",
            "steps": [
                {"type": "create_discount", "id": "code", "next": "mail"},
                email_step("mail", "reminder"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    [enrollment] = shop.rows(Enrollment)
    assert (enrollment.status, enrollment.end_reason) == (
        EnrollmentStatus.EXITED,
        "discount_failed",
    )
    assert shop.rows(Message) == []


def test_contact_actions_change_the_contact(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": "update",
            "steps": [
                {
                    "type": "update_contact",
                    "id": "update",
                    "actions": [
                        {"op": "add_tag", "tag": "buyer"},
                        {"op": "set_custom_field", "key": "tier", "value": "gold"},
                        {"op": "copy_event_property", "path": "order.number", "key": "last_order"},
                        {"op": "add_to_list", "list_id": "customers"},
                        {"op": "unsubscribe", "channel": "sms"},
                    ],
                }
            ],
        }
    )
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    [contact] = shop.rows(Contact)
    assert contact.tags == ["buyer"]
    assert contact.custom_fields == {"tier": "gold", "last_order": "1001"}
    assert contact.consents["sms"]["status"] == "unsubscribed"
    assert [m.list_key for m in shop.rows(ListMember)] == ["customers"]
    assert contact.orders_count == 1


def test_marketing_needs_consent_in_opt_in_stores(shop: Shop) -> None:
    shop.set_store(consent_mode="opt_in")
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up", "newsletter.subscribed"]},
            "repeatability": "multiple",
            "entry_step": "hello",
            "steps": [email_step("hello")],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    assert shop.sink.received == []
    assert ("hello", "skipped", "no_consent") in shop.trace()
    # subscribing to the newsletter records consent, and the next entry sends
    shop.send(event(EventType.NEWSLETTER_SUBSCRIBED))
    shop.sink.wait_for(1)
    [contact] = shop.rows(Contact)
    assert contact.consents["email"]["status"] == "subscribed"


def test_the_frequency_cap_skips_a_second_marketing_email(shop: Shop) -> None:
    shop.set_store(frequency_cap_hours=24, frequency_cap_mode="skip")
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "a",
            "steps": [
                email_step("a", nxt="wait"),
                {"type": "delay", "id": "wait", "seconds": 3600, "next": "b"},
                email_step("b", "reminder", nxt="c"),
                email_step("c", "female", transactional=True),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    shop.sink.wait_for(1)
    shop.later(hours=1, seconds=1)
    shop.sink.wait_for(2)
    assert shop.subjects() == ["note Ada", "female Ada"]
    assert ("b", "skipped", "frequency_cap") in shop.trace()


def test_test_mode_lets_only_listed_addresses_in(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "test_mode": True,
            "test_emails": ["Tester@Example.com"],
            "entry_step": "hello",
            "steps": [email_step("hello")],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP, "ada@example.com"))
    shop.send(event(EventType.CUSTOMER_SIGNED_UP, "tester@example.com"))
    [mail] = shop.sink.wait_for(1)
    assert mail.rcpt_tos == ["tester@example.com"]


def test_a_birthday_enrolls_once_on_the_day(shop: Shop) -> None:
    shop.set_store(timezone="Europe/Paris")
    shop.launch(
        {
            "trigger": {"type": "date", "field": "custom:birthday", "yearly": True, "at": "09:00"},
            "entry_step": "hello",
            "steps": [email_step("hello")],
        }
    )
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "tag",
            "steps": [
                {
                    "type": "update_contact",
                    "id": "tag",
                    "actions": [
                        {"op": "set_custom_field", "key": "birthday", "value": "1990-11-24"}
                    ],
                }
            ],
        },
        name="profile",
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    assert raise_date_events(shop.runtime) == 0  # 23 November: not the day
    shop.clock.now = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # 08:30 in Paris
    assert raise_date_events(shop.runtime) == 0  # before 09:00 local
    shop.clock.now = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
    assert raise_date_events(shop.runtime) == 1
    assert raise_date_events(shop.runtime) == 1  # the same key again: recorded once
    [mail] = shop.sink.wait_for(1)
    assert str(mail.message["Subject"]) == "note Ada"
    assert len(shop.rows(Enrollment, Enrollment.status == EnrollmentStatus.COMPLETED)) == 2


def test_orders_update_the_stats_and_purchases_once(shop: Shop) -> None:
    placed = event(EventType.ORDER_PLACED, key="order-1", order=order("80.00", order_id="o-1"))
    shop.send(placed)
    shop.send(placed)
    [contact] = shop.rows(Contact)
    assert (contact.orders_count, contact.total_spent) == (1, Decimal("80.00"))
    assert contact.first_order_at == contact.last_order_at is not None
    [seen] = shop.rows(Purchase)  # the order had no lines: one row marks it as seen
    assert (seen.order_id, seen.product_id) == ("o-1", None)


def test_an_sms_to_a_contact_without_a_phone_is_skipped_with_its_reason(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "sms",
            "steps": [
                {"type": "send_sms", "id": "sms", "text": {"en": "Hi"}, "transactional": True}
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    [message] = shop.rows(Message)
    assert (message.channel, message.status) == ("sms", MessageStatus.SKIPPED)
    assert message.error == "no phone number"


def test_a_draining_version_retires_when_its_last_contact_finishes(shop: Shop) -> None:
    campaign_id = shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 60, "next": "hello"},
                email_step("hello"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    with shop.runtime.sessions() as session, session.begin():
        version = session.scalars(
            select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
        ).one()
        version.status = VersionStatus.DRAINING
    shop.later(minutes=2)
    shop.sink.wait_for(1)
    [version] = shop.rows(CampaignVersion)
    assert version.status == VersionStatus.RETIRED


def test_an_uninstalled_store_sends_nothing_more(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 60, "next": "hello"},
                email_step("hello"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    shop.set_store(status="uninstalled")
    shop.later(minutes=2)
    assert shop.sink.received == []
    [enrollment] = shop.rows(Enrollment)
    assert (enrollment.status, enrollment.end_reason) == (
        EnrollmentStatus.EXITED,
        "store_uninstalled",
    )
    assert len(shop.rows(Contact)) == 1  # its data stays until the operator purges it


def test_an_exit_condition_removes_the_contact_when_another_campaign_tags_it(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "exit_rules": [
                {
                    "type": "condition",
                    "condition": {"type": "tags", "op": "has_any", "tags": ["vip"]},
                }
            ],
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 86400, "next": "hello"},
                email_step("hello"),
            ],
        },
        name="nurture",
    )
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": "tag",
            "steps": [
                {
                    "type": "update_contact",
                    "id": "tag",
                    "actions": [{"op": "add_tag", "tag": "vip"}],
                }
            ],
        },
        name="vip",
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    nurture = [e for e in shop.rows(Enrollment) if e.end_reason == "exit_condition"]
    assert len(nurture) == 1
    shop.later(days=2)
    assert shop.sink.received == []


def test_a_custom_event_triggers_its_campaign(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["custom.wishlisted"]},
            "entry_step": "hello",
            "steps": [email_step("hello")],
        }
    )
    shop.send(
        DomainEvent(
            type=EventType.CUSTOM,
            custom_name="custom.wishlisted",
            idempotency_key="wish-1",
            occurred_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
            contact=ContactUpdate(email="ada@example.com", first_name="Ada"),
        )
    )
    shop.sink.wait_for(1)


def test_a_cancelled_order_leaves_the_statistics_once(shop: Shop) -> None:
    shop.send(event(EventType.ORDER_PLACED, order=order("80.00", order_id="o-1")))
    shop.send(event(EventType.ORDER_PLACED, order=order("20.00", order_id="o-2")))
    shop.send(event(EventType.ORDER_REFUNDED, order=order("80.00", order_id="o-1")))
    shop.send(event(EventType.ORDER_CANCELLED, order=order("80.00", order_id="o-1")))
    [contact] = shop.rows(Contact)
    assert (contact.orders_count, contact.total_spent) == (1, Decimal("20.00"))


def test_a_deleted_customer_is_erased_and_leaves_its_campaigns(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 60, "next": "hello"},
                email_step("hello"),
            ],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    shop.send(event(EventType.CUSTOMER_DELETED))
    shop.later(minutes=5)
    assert shop.sink.received == []
    [contact] = shop.rows(Contact)
    assert contact.email != "ada@example.com"
    assert contact.first_name is None
    [enrollment] = shop.rows(Enrollment)
    assert enrollment.status == EnrollmentStatus.EXITED


def test_emails_come_from_the_store_sender_with_its_name(shop: Shop) -> None:
    shop.set_store(sender="bonjour@maison.example", sender_name="Maison Exemple")
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["customer.signed_up"]},
            "entry_step": "hello",
            "steps": [email_step("hello")],
        }
    )
    shop.send(event(EventType.CUSTOMER_SIGNED_UP))
    [mail] = shop.sink.wait_for(1)
    assert str(mail.message["From"]) == "Maison Exemple <bonjour@maison.example>"


def test_an_order_recovering_the_cart_ends_its_reminders_without_an_exit_rule(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["cart.abandoned"]},
            "entry_step": "wait",
            "steps": [
                {"type": "delay", "id": "wait", "seconds": 7200, "next": "remind"},
                email_step("remind"),
            ],
        }
    )
    cart = CartSnapshot(checkout_id="c-1", currency="EUR", subtotal=Decimal(9), total=Decimal(9))
    shop.send(event(EventType.CART_ABANDONED, cart=cart))
    shop.send(
        event(
            EventType.ORDER_PLACED,
            order=order(),
            properties={"recovered_checkout_id": "c-1"},
        )
    )
    shop.later(hours=3)
    assert shop.sink.received == []
    [enrollment] = shop.rows(Enrollment)
    assert enrollment.end_reason == "cart_recovered"


def test_a_list_entered_by_a_step_triggers_the_lists_campaign(shop: Shop) -> None:
    shop.launch(
        {
            "trigger": {"type": "list_entered", "list_id": "vip"},
            "entry_step": "hello",
            "steps": [email_step("hello", "female")],
        },
        name="welcome to VIP",
    )
    shop.launch(
        {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": "add",
            "steps": [
                {
                    "type": "update_contact",
                    "id": "add",
                    "actions": [{"op": "add_to_list", "list_id": "vip"}],
                }
            ],
        },
        name="vip",
    )
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    [mail] = shop.sink.wait_for(1)
    assert str(mail.message["Subject"]) == "female Ada"
    # a second order adds nothing: already a member, no second list.entered
    shop.send(event(EventType.ORDER_PLACED, order=order()))
    assert len(shop.sink.received) == 1
