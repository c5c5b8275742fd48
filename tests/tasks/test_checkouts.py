"""Abandoned-checkout detection with a controllable clock, on SQLite and PostgreSQL.

A checkout with an email and lines fires ``cart.abandoned`` once it has seen no update for the
store's delay; updates postpone it, older deliveries change nothing, an order closes it (and is
attributed to the recovery when it had fired), and very old checkouts are closed silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update

from relance.automation.contacts import ContactUpdate
from relance.automation.events import (
    CartSnapshot,
    CheckoutState,
    DomainEvent,
    EventType,
    LineItem,
    OrderSnapshot,
)
from relance.runtime import Runtime
from relance.store.models import Checkout, CheckoutStatus, Event, Store, StoreKind, StoreStatus
from relance.store.repositories.checkouts import recovery_url
from relance.store.repositories.stores import save_installation
from relance.tasks.checkouts import (
    STALE_AFTER,
    accept_checkout,
    accept_domain_event,
    raise_abandoned_checkouts,
)
from tests.fixtures.runtime import Clock, RecordingDispatcher

MakeRuntime = Callable[..., Runtime]
CHECKOUT_ID = "Q2hlY2tvdXQ6NmYxYjJjOWUtNGQ3YS00YjhlLTlhNTEtMmUzZjBjN2Q4YjE0"
TOKEN = "6f1b2c9e-4d7a-4b8e-9a51-2e3f0c7d8b14"


def cart_state(
    updated_at: datetime,
    *,
    checkout_id: str = CHECKOUT_ID,
    email: str | None = "camille.lefebvre@example.fr",
    quantities: tuple[int, ...] = (1, 2),
    channel: str | None = "boutique-fr",
    language: str = "fr",
) -> CheckoutState:
    """A French cart as a platform reports it at ``updated_at``."""
    lines = tuple(
        LineItem(
            product_name=f"Produit {i}",
            quantity=quantity,
            unit_price=Decimal("29.00"),
            total_price=Decimal("29.00") * quantity,
            currency="EUR",
            image_url=f"https://shop.example.fr/img/{i}.webp",
        )
        for i, quantity in enumerate(quantities)
    )
    total = sum((line.total_price for line in lines), Decimal(0))
    contact = ContactUpdate(email=email, first_name="Camille", language=language) if email else None
    return CheckoutState(
        checkout_id=checkout_id,
        token=TOKEN,
        updated_at=updated_at,
        contact=contact,
        language=contact.language if contact else None,
        cart=CartSnapshot(
            checkout_id=checkout_id,
            channel=channel,
            currency="EUR",
            lines=lines,
            subtotal=total,
            total=total,
            updated_at=updated_at,
        ),
    )


def order_placed(
    placed_at: datetime, *, checkout_id: str | None = CHECKOUT_ID, order_id: str = "T3JkZXI6MQ=="
) -> DomainEvent:
    return DomainEvent(
        type=EventType.ORDER_PLACED,
        idempotency_key=f"order.placed:{order_id}",
        occurred_at=placed_at,
        contact=ContactUpdate(email="camille.lefebvre@example.fr"),
        order=OrderSnapshot(
            order_id=order_id,
            number="1001",
            created_at=placed_at,
            checkout_id=checkout_id,
            currency="EUR",
            subtotal=Decimal("87.00"),
            total=Decimal("87.00"),
        ),
    )


@dataclass
class Shop:
    runtime: Runtime
    clock: Clock
    store_id: UUID

    def checkout(self, checkout_id: str = CHECKOUT_ID) -> Checkout:
        with self.runtime.sessions() as session:
            row = session.scalars(
                select(Checkout).where(
                    Checkout.store_id == self.store_id, Checkout.checkout_id == checkout_id
                )
            ).one()
            session.expunge(row)
            return row

    def events(self, event_type: str | None = None) -> list[Event]:
        with self.runtime.sessions() as session:
            query = select(Event).where(Event.store_id == self.store_id)
            if event_type:
                query = query.where(Event.type == event_type)
            return list(session.scalars(query.order_by(Event.received_at, Event.id)))

    def configure(self, **values: Any) -> None:
        with self.runtime.sessions() as session, session.begin():
            session.execute(update(Store).where(Store.id == self.store_id).values(**values))

    @property
    def dispatched(self) -> list[tuple[str, UUID]]:
        dispatcher = self.runtime.dispatcher
        assert isinstance(dispatcher, RecordingDispatcher)
        return dispatcher.sent


def add_store(runtime: Runtime, api_url: str, **settings: Any) -> UUID:
    with runtime.sessions() as session, session.begin():
        store = save_installation(
            session,
            kind=StoreKind.SALEOR,
            api_url=api_url,
            app_id="QXBwOjE=",
            auth_token="token",
            jwks=None,
            secrets=runtime.secrets,
            now=runtime.clock(),
        )
        for name, value in settings.items():
            setattr(store, name, value)
        return store.id


@pytest.fixture
def shop(database_url: str, make_runtime: MakeRuntime, clock: Clock) -> Shop:
    runtime = make_runtime(database_url)
    store_id = add_store(
        runtime,
        "https://boutique.example.fr/graphql/",
        storefront_urls={
            "boutique-fr": {
                "home": "https://boutique.example.fr/",
                "checkout": "https://boutique.example.fr/{lang}/checkout?token={token}",
            }
        },
    )
    return Shop(runtime, clock, store_id)


def test_a_cart_fires_once_after_the_delay(shop: Shop) -> None:
    # given a cart with an email and lines, updated now
    t0 = shop.clock.now
    seen = accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    assert (seen.status, seen.stale) == (CheckoutStatus.OPEN, False)
    assert shop.checkout().due_at == t0 + timedelta(minutes=60)
    # when the sweep runs just before the store's delay (60 minutes) has passed
    shop.clock.advance(minutes=59)
    # then nothing fires
    assert raise_abandoned_checkouts(shop.runtime) == 0
    # and once it has passed, one cart.abandoned is recorded and dispatched
    shop.clock.advance(minutes=1)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    [abandoned] = shop.events("cart.abandoned")
    assert ("process_event", abandoned.id) in shop.dispatched
    assert abandoned.idempotency_key == f"cart.abandoned:{CHECKOUT_ID}:{t0.isoformat()}"
    assert abandoned.occurred_at == t0 + timedelta(minutes=60)
    event = DomainEvent.model_validate(abandoned.payload)
    assert event.contact.email == "camille.lefebvre@example.fr"
    assert event.cart is not None
    assert [line.product_name for line in event.cart.lines] == ["Produit 0", "Produit 1"]
    assert event.cart.total == Decimal("87.00")
    assert event.cart.recovery_url == f"https://boutique.example.fr/fr/checkout?token={TOKEN}"
    assert event.properties == {"checkout_id": CHECKOUT_ID}
    row = shop.checkout()
    assert (row.status, row.abandoned_at, row.due_at) == (
        CheckoutStatus.ABANDONED,
        shop.clock.now,
        None,
    )
    # and sweeping again fires nothing more
    shop.clock.advance(hours=5)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    assert len(shop.events("cart.abandoned")) == 1


def test_a_watched_checkout_records_checkout_updated_once_per_version(shop: Shop) -> None:
    t0 = shop.clock.now
    first = accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    again = accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    assert first.event is not None
    assert not first.event.duplicate
    assert again.stale
    assert again.event is None
    [updated] = shop.events("checkout.updated")
    assert updated.idempotency_key == f"checkout.updated:{CHECKOUT_ID}:{t0.isoformat()}"
    event = DomainEvent.model_validate(updated.payload)
    assert event.cart is not None
    assert event.cart.recovery_url.endswith(f"token={TOKEN}")


def test_every_update_postpones_abandonment(shop: Shop) -> None:
    # given a cart updated now and again 30 minutes later
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    shop.clock.advance(minutes=30)
    t1 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t1, quantities=(1,)))
    # when the first due time comes, then nothing fires
    shop.clock.advance(minutes=30)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    # and it fires an hour after the last update, with the cart as it was then
    shop.clock.advance(minutes=30)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    [abandoned] = shop.events("cart.abandoned")
    assert abandoned.idempotency_key.endswith(t1.isoformat())
    assert len(abandoned.payload["cart"]["lines"]) == 1


def test_an_older_delivery_changes_nothing(shop: Shop) -> None:
    # given the cart as updated at t1
    t0 = shop.clock.now
    t1 = t0 + timedelta(minutes=10)
    accept_checkout(shop.runtime, shop.store_id, cart_state(t1, quantities=(3,)))
    # when a retry of the t0 delivery arrives late (Saleor retries out of order)
    late = accept_checkout(shop.runtime, shop.store_id, cart_state(t0, quantities=(1, 1, 1)))
    # then it is acknowledged as stale and the row keeps the newer state and due time
    assert late.stale
    row = shop.checkout()
    assert row.platform_updated_at == t1
    assert row.due_at == t1 + timedelta(minutes=60)
    assert len(row.snapshot["cart"]["lines"]) == 1
    assert len(shop.events("checkout.updated")) == 1


def test_an_order_before_the_delay_means_it_never_fires(shop: Shop) -> None:
    # given a watched cart
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    # when the customer orders from it 20 minutes later
    shop.clock.advance(minutes=20)
    accepted = accept_domain_event(shop.runtime, shop.store_id, order_placed(shop.clock.now))
    # then the checkout is converted and the order carries no recovery
    row = shop.checkout()
    assert (row.status, row.order_id) == (CheckoutStatus.CONVERTED, "T3JkZXI6MQ==")
    [order] = shop.events("order.placed")
    assert order.id == accepted.event_id
    assert order.payload["properties"] == {}
    # and the due time passes without a cart.abandoned
    shop.clock.advance(hours=2)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    # and a late delivery of the checkout (even a newer one) does not reopen it
    late = accept_checkout(shop.runtime, shop.store_id, cart_state(t0 + timedelta(minutes=21)))
    assert (late.status, late.stale) == (CheckoutStatus.CONVERTED, True)
    shop.clock.advance(hours=2)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    assert shop.events("cart.abandoned") == []


def test_an_order_after_it_fired_is_a_recovery(shop: Shop) -> None:
    # given a cart declared abandoned
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    shop.clock.advance(minutes=61)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    # when the customer comes back and orders from it the next day
    shop.clock.advance(days=1)
    first = accept_domain_event(shop.runtime, shop.store_id, order_placed(shop.clock.now))
    # then the checkout is recovered by that order
    row = shop.checkout()
    assert (row.status, row.order_id) == (CheckoutStatus.RECOVERED, "T3JkZXI6MQ==")
    # and the order.placed event says which checkout it recovered (exit rules, attribution)
    [order] = shop.events("order.placed")
    assert order.payload["properties"] == {"recovered_checkout_id": CHECKOUT_ID}
    # and Saleor's duplicate delivery of the order records nothing new
    again = accept_domain_event(shop.runtime, shop.store_id, order_placed(shop.clock.now))
    assert (again.duplicate, again.event_id) == (True, first.event_id)
    assert shop.checkout().status == CheckoutStatus.RECOVERED


def test_an_order_of_a_checkout_never_watched_blocks_a_late_delivery(shop: Shop) -> None:
    # given an order whose checkout relance never saw (anonymous until payment)
    t0 = shop.clock.now
    accept_domain_event(shop.runtime, shop.store_id, order_placed(t0))
    assert shop.checkout().status == CheckoutStatus.CONVERTED
    # when a delayed checkout delivery with an email arrives
    late = accept_checkout(shop.runtime, shop.store_id, cart_state(t0 - timedelta(minutes=1)))
    # then it does not start watching a checkout that became an order
    assert late.stale
    shop.clock.advance(hours=3)
    assert raise_abandoned_checkouts(shop.runtime) == 0


def test_an_order_without_checkout_is_just_recorded(shop: Shop) -> None:
    accepted = accept_domain_event(
        shop.runtime, shop.store_id, order_placed(shop.clock.now, checkout_id=None)
    )
    assert not accepted.duplicate
    assert [e.type for e in shop.events()] == ["order.placed"]


def test_each_store_has_its_own_delay(shop: Shop) -> None:
    # given a second store abandoning after 15 minutes, the first after 2 hours
    other = add_store(
        shop.runtime, "https://other.example.com/graphql/", abandonment_delay_minutes=15
    )
    shop.configure(abandonment_delay_minutes=120)
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    accept_checkout(shop.runtime, other, cart_state(t0))
    # when 15 minutes pass, then only the second store's cart fires
    shop.clock.advance(minutes=15)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    with shop.runtime.sessions() as session:
        assert session.scalars(
            select(Event.store_id).where(Event.type == "cart.abandoned")
        ).all() == [other]
    # and the first one's after two hours
    shop.clock.advance(minutes=105)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    assert len(shop.events("cart.abandoned")) == 1


def test_a_cart_without_email_or_lines_is_not_watched(shop: Shop) -> None:
    t0 = shop.clock.now
    anonymous = accept_checkout(shop.runtime, shop.store_id, cart_state(t0, email=None))
    empty = accept_checkout(
        shop.runtime, shop.store_id, cart_state(t0, checkout_id="other", quantities=())
    )
    assert (anonymous.status, anonymous.event) == (None, None)
    assert (empty.status, empty.event) == (None, None)
    shop.clock.advance(hours=3)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    assert shop.events() == []


def test_a_cart_emptied_after_being_watched_is_gone_and_never_fires(shop: Shop) -> None:
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    emptied = accept_checkout(
        shop.runtime, shop.store_id, cart_state(t0 + timedelta(minutes=5), quantities=())
    )
    assert emptied.status == CheckoutStatus.GONE
    row = shop.checkout()
    assert (row.due_at, row.email, row.snapshot) == (None, None, {})
    shop.clock.advance(hours=3)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    # and filled again, it is watched again
    refilled = accept_checkout(shop.runtime, shop.store_id, cart_state(shop.clock.now))
    assert refilled.status == CheckoutStatus.OPEN


def test_a_channel_the_store_does_not_act_on_is_not_watched(shop: Shop) -> None:
    shop.configure(channels=["boutique-be"])
    seen = accept_checkout(shop.runtime, shop.store_id, cart_state(shop.clock.now))
    assert seen.status is None


def test_a_cart_updated_again_after_firing_can_fire_again(shop: Shop) -> None:
    # given a cart that fired
    t0 = shop.clock.now
    accept_checkout(shop.runtime, shop.store_id, cart_state(t0))
    shop.clock.advance(minutes=60)
    raise_abandoned_checkouts(shop.runtime)
    # when the customer changes it again, then it is watched again
    shop.clock.advance(days=2)
    t1 = shop.clock.now
    assert accept_checkout(shop.runtime, shop.store_id, cart_state(t1)).status == (
        CheckoutStatus.OPEN
    )
    # and fires again, as another fact (campaign repeatability decides about re-entry)
    shop.clock.advance(minutes=60)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    keys = [e.idempotency_key for e in shop.events("cart.abandoned")]
    assert keys == [
        f"cart.abandoned:{CHECKOUT_ID}:{t0.isoformat()}",
        f"cart.abandoned:{CHECKOUT_ID}:{t1.isoformat()}",
    ]
    # and an order now is still a recovery (it fired before)
    accept_domain_event(shop.runtime, shop.store_id, order_placed(shop.clock.now))
    assert shop.checkout().status == CheckoutStatus.RECOVERED


def test_a_checkout_not_updated_for_30_days_is_closed_without_firing(shop: Shop) -> None:
    # given a cart seen long ago whose due time passed while nobody swept (relance was down)
    old = shop.clock.now - STALE_AFTER - timedelta(minutes=1)
    accept_checkout(shop.runtime, shop.store_id, cart_state(old))
    # when the sweep finds it, then it is closed as gone: Saleor has likely deleted it
    assert raise_abandoned_checkouts(shop.runtime) == 0
    assert shop.checkout().status == CheckoutStatus.GONE
    assert shop.events("cart.abandoned") == []


def test_an_uninstalled_store_fires_nothing(shop: Shop) -> None:
    accept_checkout(shop.runtime, shop.store_id, cart_state(shop.clock.now))
    shop.configure(status=StoreStatus.UNINSTALLED)
    shop.clock.advance(hours=2)
    assert raise_abandoned_checkouts(shop.runtime) == 0
    assert shop.checkout().status == CheckoutStatus.OPEN


def test_many_due_carts_fire_once_each(shop: Shop) -> None:
    # given twelve carts due at once
    t0 = shop.clock.now
    for i in range(12):
        accept_checkout(
            shop.runtime,
            shop.store_id,
            cart_state(t0, checkout_id=f"C{i}", email=f"customer{i}@example.fr"),
        )
    shop.clock.advance(minutes=60)
    # when two sweeps run one after the other, then each cart fired exactly once
    assert raise_abandoned_checkouts(shop.runtime) + raise_abandoned_checkouts(shop.runtime) == 12
    keys = [e.idempotency_key for e in shop.events("cart.abandoned")]
    assert len(keys) == len(set(keys)) == 12


# -- the recovery link ---------------------------------------------------------------------


def store_with(urls: dict[str, Any], default_language: str = "en") -> Store:
    return Store(storefront_urls=urls, default_language=default_language)


def test_the_template_placeholders_are_filled_and_encoded() -> None:
    store = store_with(
        {"eu": {"checkout": "https://shop.example/{lang}/c/{checkout_id}?t={token}&x={unknown}"}}
    )
    url = recovery_url(store, channel="eu", token="a b", checkout_id="Q2g=", language="pt-BR")
    assert url == "https://shop.example/pt-BR/c/Q2g%3D?t=a%20b&x={unknown}"


def test_a_channel_without_template_uses_any_channel_then_home() -> None:
    store = store_with(
        {
            "*": {"checkout": "https://shop.example/checkout/{token}"},
            "uk": {"home": "https://shop.example/uk/"},
        }
    )
    assert recovery_url(store, channel="fr", token="t", checkout_id="c", language=None) == (
        "https://shop.example/checkout/t"
    )
    assert recovery_url(store, channel="uk", token="t", checkout_id="c", language=None) == (
        "https://shop.example/uk/"
    )
    assert (
        recovery_url(store_with({}), channel="fr", token="t", checkout_id="c", language=None) == ""
    )


def test_the_store_language_stands_in_for_an_unknown_one() -> None:
    store = store_with({"*": {"checkout": "https://shop.example/{lang}/"}}, default_language="de")
    assert recovery_url(store, channel=None, token=None, checkout_id="c", language=None) == (
        "https://shop.example/de/"
    )
