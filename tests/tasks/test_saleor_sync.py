"""The Saleor sync: consent written back to the customer's metadata, details read once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from relance.automation.conditions import Channel, ConsentStatus
from relance.automation.contacts import ContactUpdate
from relance.runtime import Runtime
from relance.store.models import Contact, Store, StoreStatus
from relance.store.repositories.contacts import set_consent, upsert_contact
from relance.tasks.saleor_sync import sync_consents, sync_customer_details
from tests.fixtures.saleor import FakeSaleor, install_store

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def runtime(database_url: str, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(database_url)


def contact_of(runtime: Runtime, store: Store, email: str, user_id: str) -> Contact:
    with runtime.sessions() as session, session.begin():
        contact = upsert_contact(
            session, store.id, ContactUpdate(email=email, platform_user_id=user_id), NOW
        )
        session.flush()
        session.expunge(contact)
        return contact


def consent(runtime: Runtime, email: str, status: str) -> None:
    with runtime.sessions() as session, session.begin():
        contact = session.scalars(select(Contact).where(Contact.email == email)).one()
        set_consent(contact, Channel.EMAIL, status, "test", NOW)


def test_consent_is_written_back_once_per_change(runtime: Runtime, fake_saleor: FakeSaleor) -> None:
    store = install_store(runtime, fake_saleor)
    user_id = fake_saleor.shop.add_user("ada@example.com")
    contact_of(runtime, store, "ada@example.com", user_id)
    consent(runtime, "ada@example.com", ConsentStatus.SUBSCRIBED)
    assert sync_consents(runtime) == 1
    assert fake_saleor.shop.user_metadata(user_id) == {"relance.consent.email": "subscribed"}
    assert sync_consents(runtime) == 0  # in step: nothing more to write
    consent(runtime, "ada@example.com", ConsentStatus.UNSUBSCRIBED)
    assert sync_consents(runtime) == 1
    assert fake_saleor.shop.user_metadata(user_id) == {"relance.consent.email": "unsubscribed"}


def test_a_staff_customer_is_left_alone_without_retrying(
    runtime: Runtime, fake_saleor: FakeSaleor
) -> None:
    store = install_store(runtime, fake_saleor)
    user_id = fake_saleor.shop.add_user("staff@example.com", is_staff=True)
    contact_of(runtime, store, "staff@example.com", user_id)
    consent(runtime, "staff@example.com", ConsentStatus.SUBSCRIBED)
    assert sync_consents(runtime) == 1
    assert fake_saleor.shop.user_metadata(user_id) == {}
    assert sync_consents(runtime) == 0


def test_details_fill_what_relance_lacks_once(runtime: Runtime, fake_saleor: FakeSaleor) -> None:
    store = install_store(runtime, fake_saleor)
    user_id = fake_saleor.shop.add_user(
        "old@example.com", language="PT_BR", orders=4, shipping_country="PT", first_name="Inês"
    )
    contact_of(runtime, store, "old@example.com", user_id)
    assert sync_customer_details(runtime) == 1
    with runtime.sessions() as session:
        contact = session.scalars(select(Contact)).one()
    assert (contact.orders_count, contact.language, contact.country, contact.first_name) == (
        4,
        "pt-BR",
        "PT",
        "Inês",
    )
    assert contact.platform_synced_at is not None
    assert sync_customer_details(runtime) == 0


def test_a_refused_token_disconnects_the_store(runtime: Runtime, fake_saleor: FakeSaleor) -> None:
    store = install_store(runtime, fake_saleor)
    user_id = fake_saleor.shop.add_user("ada@example.com")
    contact_of(runtime, store, "ada@example.com", user_id)
    fake_saleor.valid_token = "revoked"
    assert sync_customer_details(runtime) == 0
    with runtime.sessions() as session:
        assert session.scalars(select(Store.status)).one() == StoreStatus.DISCONNECTED
