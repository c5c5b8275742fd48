"""Erasing a contact: personal data goes, anonymous counts stay; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from relance.automation.contacts import ContactUpdate
from relance.automation.events import DomainEvent, EventType
from relance.runtime import Runtime
from relance.store.models import (
    Campaign,
    CampaignVersion,
    Checkout,
    CheckoutStatus,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Event,
    EventStatus,
    ListMember,
    Message,
    MessageStatus,
    Purchase,
    PushSubscription,
    StoreKind,
    TraceRecord,
)
from relance.store.repositories.erasure import (
    ERASED_REASON,
    erase_contact,
    erase_customer,
    is_erased,
)
from relance.store.repositories.stores import save_installation
from tests.fixtures.runtime import Clock

MakeRuntime = Callable[..., Runtime]
EMAIL = "lena.schmidt@example.de"


@dataclass
class World:
    runtime: Runtime
    store_id: UUID
    contact_id: UUID
    other_id: UUID
    enrollment_id: UUID
    now: datetime


def _event(store_id: UUID, contact_id: UUID | None, email: str, key: str, now: datetime) -> Event:
    payload = DomainEvent(
        type=EventType.CUSTOMER_SIGNED_UP,
        idempotency_key=key,
        occurred_at=now,
        contact=ContactUpdate(email=email, first_name="Lena", phone="+4915112345678"),
        properties={"favourite": "blue"},
    ).model_dump(mode="json")
    return Event(
        store_id=store_id,
        type="customer.signed_up",
        idempotency_key=key,
        occurred_at=now,
        received_at=now,
        payload=payload,
        status=EventStatus.PROCESSED,
        contact_id=contact_id,
    )


@pytest.fixture
def world(database_url: str, make_runtime: MakeRuntime, clock: Clock) -> World:
    """Lena, with everything a contact can have, and Jonas, who must not be touched."""
    runtime = make_runtime(database_url)
    now = clock.now
    with runtime.sessions() as session, session.begin():
        store = save_installation(
            session,
            kind=StoreKind.SALEOR,
            api_url="https://shop.example.de/graphql/",
            app_id="QXBwOjE=",
            auth_token="token",
            jwks=None,
            secrets=runtime.secrets,
            now=now,
        )
        lena = Contact(
            store_id=store.id,
            email=EMAIL,
            first_name="Lena",
            last_name="Schmidt",
            language="de",
            country="DE",
            platform_user_id="VXNlcjo1MTAy",
            phone="+4915112345678",
            gender="female",
            time_zone="Europe/Berlin",
            tags=["vip"],
            custom_fields={"birthday": "1990-05-17"},
            consents={"email": {"status": "subscribed", "source": "form", "at": now.isoformat()}},
            orders_count=3,
            total_spent=Decimal("250.00"),
            first_order_at=now,
            last_order_at=now,
        )
        jonas = Contact(
            store_id=store.id,
            email="jonas.becker@example.de",
            first_name="Jonas",
            tags=[],
            custom_fields={},
            consents={},
        )
        session.add_all([lena, jonas])
        session.flush()
        campaign = Campaign(store_id=store.id, name="Welcome")
        session.add(campaign)
        session.flush()
        version = CampaignVersion(
            campaign_id=campaign.id, store_id=store.id, number=1, definition={}
        )
        session.add(version)
        session.flush()
        signed_up = _event(store.id, lena.id, EMAIL, "customer.signed_up:VXNlcjo1MTAy", now)
        dated = _event(store.id, None, EMAIL, f"date:c1:{EMAIL}:2026-11-23", now)
        jonas_event = _event(store.id, jonas.id, jonas.email, "customer.signed_up:J", now)
        session.add_all([signed_up, dated, jonas_event])
        session.flush()
        enrollment = Enrollment(
            store_id=store.id,
            campaign_id=campaign.id,
            version_id=version.id,
            contact_id=lena.id,
            event_id=signed_up.id,
            step_id="welcome",
            wake_at=now,
            context={"event_type": "customer.signed_up", "properties": {}},
        )
        session.add(enrollment)
        session.flush()
        session.add_all(
            [
                Message(
                    store_id=store.id,
                    enrollment_id=enrollment.id,
                    contact_id=lena.id,
                    step_id="welcome",
                    design="welcome",
                    status=MessageStatus.PENDING,
                    to_address=EMAIL,
                    subject="Willkommen, Lena!",
                ),
                Message(
                    store_id=store.id,
                    enrollment_id=enrollment.id,
                    contact_id=lena.id,
                    step_id="earlier",
                    design="welcome",
                    status=MessageStatus.FAILED,
                    to_address=EMAIL,
                    subject="Hallo Lena",
                    error=f"550 mailbox {EMAIL} unavailable",
                ),
                Purchase(
                    store_id=store.id,
                    contact_id=lena.id,
                    order_id="O1",
                    line_key="v1",
                    purchased_at=now,
                ),
                ListMember(store_id=store.id, list_key="vip", contact_id=lena.id, added_at=now),
                ListMember(store_id=store.id, list_key="vip", contact_id=jonas.id, added_at=now),
                Checkout(
                    store_id=store.id,
                    checkout_id="C1",
                    email=EMAIL,
                    status=CheckoutStatus.OPEN,
                    platform_updated_at=now,
                    due_at=now,
                    snapshot={"contact": {"email": EMAIL}},
                ),
            ]
        )
        ids = (store.id, lena.id, jonas.id, enrollment.id)
    return World(runtime, *ids, now)


def test_erasure_removes_personal_data_and_keeps_counts(world: World) -> None:
    # when Lena is erased
    with world.runtime.sessions() as session, session.begin():
        contact = session.get(Contact, world.contact_id)
        assert contact is not None
        erasure = erase_contact(session, contact, world.now)
    assert (erasure.enrollments_ended, erasure.messages_cancelled) == (1, 1)
    assert (erasure.events_scrubbed, erasure.checkouts_closed) == (2, 1)
    with world.runtime.sessions() as session:
        lena = session.get(Contact, world.contact_id)
        assert lena is not None
        # then her personal data is gone
        assert is_erased(lena.email)
        assert lena.email.endswith("@invalid")
        for name in (
            "first_name",
            "last_name",
            "language",
            "country",
            "platform_user_id",
            "phone",
            "gender",
            "time_zone",
        ):
            assert getattr(lena, name) is None, name
        assert (lena.tags, lena.custom_fields, lena.consents) == ([], {}, {})
        # and the anonymous counts stay
        assert (lena.orders_count, lena.total_spent) == (3, Decimal("250.00"))
        # and her purchases and list memberships are deleted, Jonas's kept
        assert session.scalar(select(func.count()).select_from(Purchase)) == 0
        assert session.scalars(select(ListMember.contact_id)).all() == [world.other_id]
        # and her enrollment ended, traced, its unsent message cancelled
        enrollment = session.get(Enrollment, world.enrollment_id)
        assert enrollment is not None
        assert (enrollment.status, enrollment.end_reason) == (
            EnrollmentStatus.EXITED,
            ERASED_REASON,
        )
        trace = session.scalars(
            select(TraceRecord.detail).where(TraceRecord.enrollment_id == world.enrollment_id)
        ).all()
        assert ERASED_REASON in trace
        messages = {m.step_id: m for m in session.scalars(select(Message))}
        assert messages["welcome"].status == MessageStatus.CANCELLED
        assert messages["earlier"].status == MessageStatus.FAILED
        for message in messages.values():
            assert (message.to_address, message.subject) == (None, None)
        assert messages["earlier"].error == "550 mailbox [erased] unavailable"
        # and her inbox events keep their type but lose who she is
        events = {e.idempotency_key: e for e in session.scalars(select(Event))}
        assert "customer.signed_up:VXNlcjo1MTAy" in events
        assert not any(EMAIL in key for key in events)
        for key, event in events.items():
            parsed = DomainEvent.model_validate(event.payload)  # still a valid event
            if key != "customer.signed_up:J":
                assert parsed.contact == ContactUpdate(email=lena.email)
                assert parsed.properties == {}
        assert events["customer.signed_up:J"].payload["contact"]["first_name"] == "Lena"
        # and the checkout watched for her is closed and emptied
        checkout = session.scalars(select(Checkout)).one()
        assert (checkout.status, checkout.email, checkout.snapshot, checkout.due_at) == (
            CheckoutStatus.GONE,
            None,
            {},
            None,
        )
        # and Jonas is untouched
        jonas = session.get(Contact, world.other_id)
        assert jonas is not None
        assert (jonas.email, jonas.first_name) == ("jonas.becker@example.de", "Jonas")


def test_erasing_twice_changes_nothing_more(world: World) -> None:
    with world.runtime.sessions() as session, session.begin():
        contact = session.get(Contact, world.contact_id)
        assert contact is not None
        erase_contact(session, contact, world.now)
        tombstone = contact.email
        again = erase_contact(session, contact, world.now)
        assert again.enrollments_ended == again.events_scrubbed == 0
        assert contact.email == tombstone


def test_a_customer_is_erased_by_email_or_by_user_id(world: World) -> None:
    # given Lena changed her address in the shop since (a second contact, same user id)
    with world.runtime.sessions() as session, session.begin():
        session.add(
            Contact(
                id=uuid4(),
                store_id=world.store_id,
                email="lena.weber@example.de",
                platform_user_id="VXNlcjo1MTAy",
                tags=[],
                custom_fields={},
                consents={},
            )
        )
    # when the shop deletes the customer
    with world.runtime.sessions() as session, session.begin():
        erased = erase_customer(
            session,
            world.store_id,
            email=EMAIL,
            platform_user_id="VXNlcjo1MTAy",
            now=world.now,
        )
    # then both contacts are erased, and nobody else; nothing was created
    assert len(erased) == 2
    with world.runtime.sessions() as session:
        emails = session.scalars(select(Contact.email)).all()
        assert sorted(is_erased(email) for email in emails) == [False, True, True]
        assert "jonas.becker@example.de" in emails
    # and erasing an unknown customer creates no contact
    with world.runtime.sessions() as session, session.begin():
        assert (
            erase_customer(
                session,
                world.store_id,
                email="nobody@example.de",
                platform_user_id=None,
                now=world.now,
            )
            == []
        )


def test_erasing_forgets_the_contacts_push_subscriptions(world: World) -> None:
    with world.runtime.sessions() as session, session.begin():
        session.add(
            PushSubscription(
                store_id=world.store_id,
                contact_id=world.contact_id,
                endpoint="https://push.example/wpush/1",
                p256dh="p" * 87,
                auth="a" * 22,
            )
        )
    with world.runtime.sessions() as session, session.begin():
        contact = session.get(Contact, world.contact_id)
        assert contact is not None
        erase_contact(session, contact, world.now)
    with world.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PushSubscription)) == 0
