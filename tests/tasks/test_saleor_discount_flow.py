"""A ``create_discount`` step on a real Saleor installation: a single-use voucher over GraphQL.

The fake Saleor executes the real schema, so the documents, variables and answers are Saleor's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import select

from relance.automation.contacts import ContactUpdate
from relance.automation.events import DomainEvent, EventType
from relance.plugin.saleor.discounts import SaleorDiscountProvider
from relance.runtime import Runtime
from relance.store.models import (
    Enrollment,
    EnrollmentStatus,
    Store,
    StoreStatus,
)
from relance.tasks.intake import accept_event
from tests.fixtures.campaigns import publish_definition
from tests.fixtures.runtime import Clock, RecordingDispatcher
from tests.fixtures.saleor import FakeSaleor, install_store

DEFINITION = {
    "trigger": {"type": "event", "events": ["customer.signed_up"]},
    "entry_step": "code",
    "steps": [
        {
            "type": "create_discount",
            "id": "code",
            "kind": "percentage",
            "value": "10",
            "valid_days": 30,
            "prefix": "WELCOME",
        }
    ],
}


@pytest.fixture
def saleor_runtime(
    database_url: str, make_runtime: Callable[..., Runtime], fake_saleor: FakeSaleor
) -> Runtime:
    from relance.tasks import advancing, processing

    class Inline(RecordingDispatcher):
        def process_event(self, event_id: object) -> None:
            processing.process_event(runtime, event_id)  # type: ignore[arg-type]

        def advance_enrollment(self, enrollment_id: object) -> None:
            advancing.advance_enrollment(runtime, enrollment_id)  # type: ignore[arg-type]

    runtime = make_runtime(
        database_url,
        dispatcher=Inline(),
        discount_providers={"saleor": SaleorDiscountProvider()},
    )
    store = install_store(runtime, fake_saleor)
    publish_definition(runtime, store.id, DEFINITION, name="welcome", now=None)
    return runtime


def signed_up(runtime: Runtime, clock: Clock) -> None:
    with runtime.sessions() as session:
        store_id = session.scalars(select(Store.id)).one()
    accept_event(
        runtime,
        store_id,
        DomainEvent(
            type=EventType.CUSTOMER_SIGNED_UP,
            idempotency_key=uuid4().hex,
            occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
            contact=ContactUpdate(email="ada@example.com"),
        ),
    )


def test_the_code_is_a_single_use_saleor_voucher(
    saleor_runtime: Runtime, fake_saleor: FakeSaleor, clock: Clock
) -> None:
    signed_up(saleor_runtime, clock)
    with saleor_runtime.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
    code = enrollment.context["discount"]["code"]
    assert enrollment.status == EnrollmentStatus.COMPLETED
    [voucher] = fake_saleor.shop.vouchers.values()
    assert [c["code"] for c in voucher["_codes"]] == [code]
    assert (voucher["singleUse"], voucher["usageLimit"], voucher["discountValueType"]) == (
        True,
        1,
        "PERCENTAGE",
    )


def test_a_refused_token_disconnects_the_store(
    saleor_runtime: Runtime, fake_saleor: FakeSaleor, clock: Clock
) -> None:
    fake_saleor.valid_token = "another-token"  # the merchant revoked relance's token
    signed_up(saleor_runtime, clock)
    with saleor_runtime.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        store = session.scalars(select(Store)).one()
    assert (enrollment.status, enrollment.end_reason) == (
        EnrollmentStatus.EXITED,
        "discount_failed",
    )
    assert store.status == StoreStatus.DISCONNECTED
    assert fake_saleor.shop.vouchers == {}
