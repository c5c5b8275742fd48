"""An order event becomes one localised email, exactly once, whatever happens around it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from relance.automation.events import DomainEvent
from relance.demo.order import sample_order
from relance.plugin.saleor.mapping import order_created_event
from relance.store.models import (
    Contact,
    Enrollment,
    EnrollmentStatus,
    Event,
    EventStatus,
    Message,
    MessageStatus,
    TraceRecord,
)
from relance.tasks.intake import accept_event
from relance.tasks.sweep import sweep
from tests.fixtures.flows import Flow


def order_event(**kwargs: object) -> DomainEvent:
    return order_created_event(sample_order(**kwargs))  # type: ignore[arg-type]


def count(flow: Flow, model: type, *where: Any) -> int:
    with flow.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_an_order_sends_one_german_email(flow: Flow) -> None:
    # given the demo store's published post-purchase campaign and a German customer's order
    event = order_event()
    # when the event is accepted
    accept_event(flow.runtime, flow.store_id, event)
    # then the customer gets one email, in German, with the order's lines and total
    [mail] = flow.sink.wait_for(1)
    message = mail.message
    assert mail.rcpt_tos == ["jonas.becker@example.de"]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Merinowollpullover" in html
    assert "Merinowollpullover" in text
    assert "132,90" in text
    # and the contact, enrollment, ledger and trace say so
    with flow.runtime.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert (contact.language, contact.orders_count, str(contact.total_spent)) == (
            "de",
            1,
            "132.90",
        )
        enrollment = session.scalars(select(Enrollment)).one()
        # the post-purchase campaign now waits two days before its cross-sell email
        assert (enrollment.status, enrollment.step_id) == (
            EnrollmentStatus.ACTIVE,
            "cross_sell_check",
        )
        sent = session.scalars(select(Message)).one()
        assert (sent.status, sent.language, sent.to_address) == (
            MessageStatus.SENT,
            "de",
            contact.email,
        )
        trace = session.execute(
            select(TraceRecord.action, TraceRecord.detail)
            .where(TraceRecord.enrollment_id == enrollment.id)
            .order_by(TraceRecord.seq)
        ).all()
        assert [tuple(row) for row in trace][:3] == [
            ("entered", ""),
            ("branch", "German"),
            ("send", "email · transactional"),
        ]


def test_a_duplicate_delivery_sends_nothing_more(flow: Flow) -> None:
    # given an order already handled
    body = sample_order()
    first = accept_event(flow.runtime, flow.store_id, order_created_event(body))
    flow.sink.wait_for(1)
    # when Saleor delivers it again
    again = accept_event(flow.runtime, flow.store_id, order_created_event(body))
    # then it is recognised, and nothing new is enrolled or sent
    assert (first.duplicate, again.duplicate) == (False, True)
    assert again.event_id == first.event_id
    assert count(flow, Enrollment) == 1
    assert count(flow, Message) == 1
    assert len(flow.sink.received) == 1


def test_every_task_is_idempotent(flow: Flow) -> None:
    # given an order processed end to end
    accepted = accept_event(flow.runtime, flow.store_id, order_event())
    flow.sink.wait_for(1)
    # when every task it caused runs again (a retried or duplicated broker message)
    for kind, ident in list(flow.dispatcher.sent):
        getattr(flow.dispatcher, kind)(ident)
    # then nothing new happens
    assert (
        count(flow, Event, Event.id == accepted.event_id, Event.status == EventStatus.PROCESSED)
        == 1
    )
    assert count(flow, Enrollment) == 1
    assert count(flow, Message) == 1
    assert len(flow.sink.received) == 1


def test_lost_broker_messages_are_found_by_the_sweep(flow: Flow, clock) -> None:  # type: ignore[no-untyped-def]
    # given a broker that loses everything it is handed
    flow.dispatcher.paused = True
    accept_event(flow.runtime, flow.store_id, order_event())
    assert count(flow, Event, Event.status == EventStatus.PENDING) == 1
    # when the lease runs out and the sweep runs with the broker back
    flow.dispatcher.paused = False
    assert sweep(flow.runtime).events == 0  # still leased to the lost dispatch
    clock.advance(seconds=61)
    report = sweep(flow.runtime)
    # then the event is processed and the email sent, once
    assert report.events == 1
    [mail] = flow.sink.wait_for(1)
    assert mail.rcpt_tos == ["jonas.becker@example.de"]
    clock.advance(seconds=61)
    assert sweep(flow.runtime) == type(report)()


def test_a_temporary_smtp_refusal_is_retried_later(flow: Flow, clock) -> None:  # type: ignore[no-untyped-def]
    # given an SMTP server that refuses for now
    flow.sink.reply = "451 4.3.0 Try again later"
    accept_event(flow.runtime, flow.store_id, order_event())
    with flow.runtime.sessions() as session:
        message = session.scalars(select(Message)).one()
        assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    # when it accepts again and the retry time has come
    flow.sink.reply = None
    assert sweep(flow.runtime).messages == 0
    clock.advance(minutes=1, seconds=1)
    assert sweep(flow.runtime).messages == 1
    # then the email goes out, once
    flow.sink.wait_for(1)
    with flow.runtime.sessions() as session:
        assert session.scalars(select(Message.status)).one() == MessageStatus.SENT


def test_a_permanent_refusal_fails_the_message(flow: Flow) -> None:
    flow.sink.reply = "550 5.1.1 No such user"
    accept_event(flow.runtime, flow.store_id, order_event())
    with flow.runtime.sessions() as session:
        message = session.scalars(select(Message)).one()
    assert message.status == MessageStatus.FAILED
    assert "550" in (message.error or "")


def test_a_worker_dying_mid_send_is_recorded_as_unknown_not_resent(flow: Flow, clock) -> None:  # type: ignore[no-untyped-def]
    # given a message claimed by a worker that then died (status SENDING, nothing sent)
    flow.dispatcher.paused = True
    accept_event(flow.runtime, flow.store_id, order_event())
    flow.dispatcher.paused = False
    clock.advance(seconds=61)
    sweep(flow.runtime)  # processes the event, enrolls, queues the message … and sends it
    flow.sink.wait_for(1)
    with flow.runtime.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        message.status = MessageStatus.SENDING  # as if the worker died before recording "sent"
        message.claimed_at = clock()
    # when time passes and the sweep runs
    clock.advance(minutes=11)
    report = sweep(flow.runtime)
    # then the message is marked unknown and not sent again
    assert report.unknown == 1
    with flow.runtime.sessions() as session:
        assert session.scalars(select(Message.status)).one() == MessageStatus.UNKNOWN
    assert len(flow.sink.received) == 1


def test_language_fallback_uses_the_campaign_default(flow: Flow) -> None:
    # given a Portuguese customer (no Portuguese design yet)
    body = sample_order(email="ana@example.pt")
    body["order"]["languageCodeEnum"] = "PT_BR"
    accept_event(flow.runtime, flow.store_id, order_created_event(body))
    # then the campaign's default language (English) is used
    flow.sink.wait_for(1)
    with flow.runtime.sessions() as session:
        assert session.scalars(select(Message.language)).one() == "en"


def test_no_store_sees_another_stores_events(flow: Flow) -> None:
    # a second store with the same customer's order does not enroll into the demo store's campaign
    from relance.store.models import StoreKind
    from relance.store.repositories.stores import save_installation

    with flow.runtime.sessions() as session, session.begin():
        other = save_installation(
            session,
            kind=StoreKind.SALEOR,
            api_url="https://other.example/graphql/",
            app_id="x",
            auth_token="t",
            jwks=None,
            secrets=flow.runtime.secrets,
            now=flow.runtime.clock(),
        )
    accept_event(flow.runtime, other.id, order_event())
    assert count(flow, Enrollment) == 0
    assert count(flow, Contact, Contact.store_id == other.id) == 1
    _ = timedelta
