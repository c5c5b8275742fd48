"""The four ready-made campaigns, end to end, with a controllable clock.

On SQLite the tasks run inline (the embedded stack); on PostgreSQL they go through a real Redis
broker to Dramatiq worker threads (the production stack), with the same clock, so waits of days
pass in milliseconds while every hop is real: inbox, engine, ledger, MJML designs, SMTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from relance.automation.contacts import ContactUpdate
from relance.automation.events import (
    CartSnapshot,
    CheckoutState,
    DomainEvent,
    EventType,
    LineItem,
    OrderSnapshot,
)
from relance.automation.library import TEMPLATES
from relance.channels.smtp import SmtpTransport
from relance.runtime import Runtime
from relance.store.models import Contact, Enrollment, EnrollmentStatus
from relance.store.repositories.campaigns import create_from_template, publish
from relance.tasks.actors import DramatiqDispatcher, declare_actors, set_runtime
from relance.tasks.checkouts import accept_checkout, raise_abandoned_checkouts
from relance.tasks.intake import accept_event
from relance.tasks.sweep import sweep
from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer
from tests.fixtures.campaigns import install_demo_store
from tests.fixtures.runtime import Clock, InlineDispatcher
from tests.fixtures.smtp import ReceivedMail, SmtpSink

#: Monday 23 November 2026, 10:00 UTC (11:00 in Paris).
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class Stack:
    runtime: Runtime
    clock: Clock
    sink: SmtpSink
    store_id: UUID
    asynchronous: bool

    def publish(self, *keys: str) -> None:
        library = self.runtime.renderer.library
        designs = {name: library.languages(name) for name in library.known_designs()}
        with self.runtime.sessions() as session, session.begin():
            for key in keys:
                campaign = create_from_template(
                    session,
                    store_id=self.store_id,
                    template=TEMPLATES[key],
                    name=None,
                    now=self.clock(),
                )
                assert publish(session, campaign=campaign, now=self.clock(), designs=designs) == []

    def send(self, event: DomainEvent) -> None:
        accept_event(self.runtime, self.store_id, event)
        self.settle()

    def later(self, **delta: float) -> None:
        """Move the clock and run what the sweep thread runs each tick."""
        self.clock.advance(**delta)
        sweep(self.runtime)
        raise_abandoned_checkouts(self.runtime)
        self.settle()

    def settle(self) -> None:
        """Wait until the workers have nothing left to do (immediate when inline)."""
        if not self.asynchronous:
            return
        broker = dramatiq.get_broker()
        assert isinstance(broker, RedisBroker)
        broker.join("relance", timeout=20_000)

    def mails_to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.sink.received if address in mail.rcpt_tos]

    def contact(self, email: str, **values: Any) -> None:
        """Create or change a contact directly (fields no event carries, such as gender)."""
        self.send(signed_up(email, key=f"profile-{email}"))
        with self.runtime.sessions() as session, session.begin():
            contact = session.scalars(select(Contact).where(Contact.email == email)).one()
            for key, value in values.items():
                setattr(contact, key, value)

    def enrollments(self, email: str) -> list[Enrollment]:
        with self.runtime.sessions() as session:
            return list(
                session.scalars(
                    select(Enrollment)
                    .join(Contact, Contact.id == Enrollment.contact_id)
                    .where(Contact.email == email)
                    .order_by(Enrollment.created_at)
                )
            )


@pytest.fixture
def stack(
    request: pytest.FixtureRequest,
    database_url: str,
    make_runtime: Callable[..., Runtime],
    smtp_sink: SmtpSink,
    clock: Clock,
) -> Iterator[Stack]:
    clock.now = MONDAY
    production = database_url.startswith("postgresql")
    worker: dramatiq.Worker | None = None
    if production:
        redis_url = request.getfixturevalue("redis_url")
        broker = RedisBroker(url=redis_url, namespace="relance")  # type: ignore[no-untyped-call]
        dramatiq.set_broker(broker)
        dispatcher: Any = DramatiqDispatcher(declare_actors(broker))
    else:
        dispatcher = InlineDispatcher()
    runtime = make_runtime(
        database_url,
        dispatcher=dispatcher,
        email_transport=SmtpTransport(smtp_sink.url),
        renderer=EmailRenderer(DesignLibrary()),
    )
    if production:
        set_runtime(runtime)
        worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=2, worker_timeout=50)
        worker.start()
    else:
        dispatcher.runtime = runtime
    store_id = install_demo_store(
        runtime,
        now=clock(),
        name="Maison Exemple",
        host="boutique",
        timezone="Europe/Paris",
        storefront_urls={
            "default-channel": {
                "home": "https://shop.example/",
                "checkout": "https://shop.example/{lang}/checkout?token={token}",
            }
        },
    )
    yield Stack(runtime, clock, smtp_sink, store_id, asynchronous=production)
    if worker is not None:
        worker.stop()
        dramatiq.get_broker().close()


def _event(kind: EventType, email: str, key: str | None, **extra: Any) -> DomainEvent:
    language = extra.pop("language", None)
    return DomainEvent(
        type=kind,
        idempotency_key=key or uuid4().hex,
        occurred_at=MONDAY,
        contact=ContactUpdate(email=email, first_name="Camille", language=language),
        **extra,
    )


def signed_up(email: str, key: str | None = None, language: str | None = None) -> DomainEvent:
    return _event(EventType.CUSTOMER_SIGNED_UP, email, key, language=language)


def subscribed(email: str, language: str | None = None) -> DomainEvent:
    return _event(EventType.NEWSLETTER_SUBSCRIBED, email, None, language=language)


_LINE = LineItem(
    product_name="Pull en laine mérinos",
    variant_name="M",
    product_id="P1",
    variant_id="V1",
    quantity=1,
    unit_price=Decimal("89.00"),
    total_price=Decimal("89.00"),
    currency="EUR",
    image_url="https://shop.example/pull.jpg",
)


def abandoned(email: str, language: str = "fr") -> DomainEvent:
    cart = CartSnapshot(
        checkout_id=f"Checkout:{uuid4()}",
        channel="default-channel",
        currency="EUR",
        lines=(_LINE,),
        subtotal=Decimal("89.00"),
        total=Decimal("89.00"),
        recovery_url="https://shop.example/fr/checkout?token=abc",
    )
    return _event(EventType.CART_ABANDONED, email, None, cart=cart, language=language)


def placed(email: str, language: str | None = None) -> DomainEvent:
    order = OrderSnapshot(
        order_id=f"Order:{uuid4()}",
        number="1042",
        created_at=MONDAY,
        channel="default-channel",
        currency="EUR",
        lines=(_LINE,),
        subtotal=Decimal("89.00"),
        total=Decimal("89.00"),
    )
    return _event(EventType.ORDER_PLACED, email, None, order=order, language=language)


def body(mail: ReceivedMail) -> str:
    part = mail.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_abandoned_cart_greets_by_gender_then_reminds_with_a_code(stack: Stack) -> None:
    stack.publish("abandoned_cart")
    stack.contact("camille@example.fr", gender="female", language="fr")
    stack.send(subscribed("camille@example.fr"))  # consent to marketing email
    stack.send(abandoned("camille@example.fr"))
    stack.later(hours=1)
    assert stack.mails_to("camille@example.fr") == []
    stack.later(hours=1, seconds=1)
    [first] = stack.mails_to("camille@example.fr")
    assert "Chère Camille" in body(first)
    assert "89,00" in body(first)
    assert "https://shop.example/fr/checkout?token=abc" in body(first)
    stack.later(days=2)
    _first, reminder = stack.mails_to("camille@example.fr")
    [enrollment] = stack.enrollments("camille@example.fr")[-1:]
    code = enrollment.context["discount"]["code"]
    assert code.startswith("COMEBACK-")
    assert code in body(reminder)
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_abandoned_cart_stops_when_the_order_comes(stack: Stack) -> None:
    stack.publish("abandoned_cart")
    stack.contact("paul@example.fr", gender="male", language="fr")
    stack.send(subscribed("paul@example.fr"))
    stack.send(abandoned("paul@example.fr"))
    stack.later(hours=2, seconds=1)
    [first] = stack.mails_to("paul@example.fr")
    assert "Cher Camille" in body(first)
    stack.send(placed("paul@example.fr"))
    stack.later(days=3)
    assert len(stack.mails_to("paul@example.fr")) == 1
    [enrollment] = stack.enrollments("paul@example.fr")
    assert (enrollment.status, enrollment.end_reason) == (
        EnrollmentStatus.EXITED,
        "exit_event:order.placed",
    )


def test_post_purchase_thanks_now_and_cross_sells_on_a_weekday(stack: Stack) -> None:
    stack.publish("post_purchase")
    stack.send(subscribed("jonas@example.de", language="de"))
    # Saturday 28 November, 20:00 in Paris
    stack.clock.now = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    stack.send(placed("jonas@example.de", language="de"))
    [thanks] = stack.mails_to("jonas@example.de")
    assert "vielen Dank" in str(thanks.message["Subject"])
    [enrollment] = stack.enrollments("jonas@example.de")
    # waits for Monday 09:00 in Paris (08:00 UTC), then two days
    assert enrollment.wake_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    stack.later(days=1, hours=13, seconds=1)  # Monday 08:00:01 UTC
    [enrollment] = stack.enrollments("jonas@example.de")
    assert enrollment.wake_at == datetime(2026, 12, 2, 8, 0, 1, tzinfo=UTC)
    stack.later(days=2)
    thanks, cross_sell = stack.mails_to("jonas@example.de")
    assert "Pull en laine mérinos" in body(cross_sell)
    [enrollment] = stack.enrollments("jonas@example.de")
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_post_purchase_skips_a_second_cross_sell_within_two_days(stack: Stack) -> None:
    stack.publish("post_purchase")
    stack.send(subscribed("ada@example.com", language="en"))
    stack.send(placed("ada@example.com", language="en"))
    stack.later(days=1)
    stack.send(placed("ada@example.com", language="en"))
    stack.later(days=1, hours=1)  # the first enrollment's cross-sell goes
    stack.later(days=1, hours=1)  # the second finds it was sent within two days
    subjects = [str(mail.message["Subject"]) for mail in stack.mails_to("ada@example.com")]
    assert len(subjects) == 3  # two thank-yous, one cross-sell
    first, second = stack.enrollments("ada@example.com")
    assert (first.status, second.status) == (EnrollmentStatus.COMPLETED, EnrollmentStatus.EXITED)
    assert second.end_reason == "exit_step"


def test_welcome_for_prospects_gives_a_code_and_reminds_a_week_later(stack: Stack) -> None:
    stack.publish("welcome_prospect", "welcome_customer")
    stack.send(subscribed("lucia@example.es", language="es"))
    [welcome] = stack.mails_to("lucia@example.es")
    [enrollment] = stack.enrollments("lucia@example.es")
    code = enrollment.context["discount"]["code"]
    assert code.startswith("WELCOME-")
    assert code in body(welcome)
    stack.later(days=7, seconds=1)
    welcome, reminder = stack.mails_to("lucia@example.es")
    assert code in body(reminder)


def test_welcome_for_prospects_ends_with_the_first_order(stack: Stack) -> None:
    stack.publish("welcome_prospect")
    stack.send(subscribed("marco@example.it", language="it"))
    stack.later(days=3)
    stack.send(placed("marco@example.it"))
    stack.later(days=5)
    assert len(stack.mails_to("marco@example.it")) == 1
    [enrollment] = stack.enrollments("marco@example.it")
    assert enrollment.end_reason == "exit_event:order.placed"


def test_welcome_for_customers_only_greets_those_who_ordered(stack: Stack) -> None:
    stack.publish("welcome_prospect", "welcome_customer")
    stack.send(placed("client@example.fr", language="fr"))
    stack.send(subscribed("client@example.fr"))
    [welcome] = stack.mails_to("client@example.fr")
    assert "WELCOME-" not in body(welcome)
    # one campaign only: the customers' welcome (the prospects' filter wants no orders)
    assert len({e.campaign_id for e in stack.enrollments("client@example.fr")}) == 1


def test_a_checkout_left_alone_becomes_the_abandoned_cart_campaign(stack: Stack) -> None:
    stack.publish("abandoned_cart")
    stack.contact("zoe@example.fr", gender="female", language="fr")
    stack.send(subscribed("zoe@example.fr"))
    cart = abandoned("zoe@example.fr").cart
    assert cart is not None
    state = CheckoutState(
        checkout_id="Q2hlY2tvdXQ6MQ==",
        token="tok-1",
        updated_at=MONDAY,
        contact=ContactUpdate(email="zoe@example.fr"),
        language="fr",
        cart=cart.model_copy(update={"recovery_url": ""}),
    )
    accept_checkout(stack.runtime, stack.store_id, state)
    stack.later(minutes=59)
    assert stack.enrollments("zoe@example.fr") == []
    stack.later(minutes=2)  # an hour without update: abandoned
    [enrollment] = stack.enrollments("zoe@example.fr")
    assert (
        enrollment.context["cart"]["recovery_url"] == "https://shop.example/fr/checkout?token=tok-1"
    )
    stack.later(hours=2)
    [mail] = stack.mails_to("zoe@example.fr")
    assert "https://shop.example/fr/checkout?token=tok-1" in body(mail)
