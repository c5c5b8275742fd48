"""A store whose token Saleor refuses is marked disconnected, and back when it works again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from relance.discounts import DiscountRequest, PlatformAccess
from relance.plugin.saleor.discounts import DiscountAccessRefused, SaleorDiscountProvider
from relance.store.models import Store, StoreKind, StoreStatus
from relance.store.models.base import Base
from relance.store.repositories.stores import mark_connected, mark_disconnected
from tests.fixtures.saleor import FakeSaleor

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        yield db
    engine.dispose()


def add_store(session: Session, status: StoreStatus = StoreStatus.ACTIVE) -> Store:
    store = Store(kind=StoreKind.SALEOR, api_url="https://shop.example.com/graphql/")
    store.status = status
    session.add(store)
    session.flush()
    return store


def test_a_refused_token_disconnects_the_store(fake_saleor: FakeSaleor, session: Session) -> None:
    # given an installed store whose token Saleor no longer accepts
    store = add_store(session)
    fake_saleor.refuse_token_with = 401
    access = PlatformAccess(str(store.id), fake_saleor.api_url, fake_saleor.valid_token)
    request = DiscountRequest(
        code="RL-ABCDEFGHJK",
        kind="percentage",
        value=Decimal(10),
        currency=None,
        channel=None,
        starts_at=NOW,
        ends_at=NOW.replace(month=6),
        minimum_order=None,
        name="relance",
    )
    # when a code is asked, the caller records the refusal
    with pytest.raises(DiscountAccessRefused):
        SaleorDiscountProvider().create(access, request)
    assert mark_disconnected(session, store.id, NOW) is True
    # then the store is disconnected, once
    assert store.status == StoreStatus.DISCONNECTED
    assert store.updated_at == NOW
    assert mark_disconnected(session, store.id, NOW) is False


def test_a_disconnected_store_can_be_reconnected(session: Session) -> None:
    store = add_store(session, StoreStatus.DISCONNECTED)
    assert mark_connected(session, store.id, NOW) is True
    assert store.status == StoreStatus.ACTIVE
    assert mark_connected(session, store.id, NOW) is False


def test_an_uninstalled_store_stays_uninstalled(session: Session) -> None:
    store = add_store(session, StoreStatus.UNINSTALLED)
    assert mark_disconnected(session, store.id, NOW) is False
    assert mark_connected(session, store.id, NOW) is False
    assert store.status == StoreStatus.UNINSTALLED


def test_an_unknown_store_changes_nothing(session: Session) -> None:
    store = add_store(session)
    session.delete(store)
    session.flush()
    assert mark_disconnected(session, store.id, NOW) is False
