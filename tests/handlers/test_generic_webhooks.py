"""``POST /api/webhooks/generic/{store}``: signed JSON events from a generic store (a Django or
Wagtail shop), recorded in a real database, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from relance.automation.events import DomainEvent, EventType
from relance.handlers import generic as generic_handlers
from relance.plugin.generic.signature import SIGNATURE_HEADER, sign
from relance.plugin.generic.stores import (
    GenericStoreError,
    create_generic_store,
    find_generic_store,
    rotate_generic_secret,
)
from relance.runtime import Runtime
from relance.store.models import Checkout, CheckoutStatus, Event, Store, StoreKind, StoreStatus
from relance.tasks.checkouts import raise_abandoned_checkouts
from tests.fixtures.http import serve
from tests.fixtures.runtime import Clock

MakeRuntime = Callable[..., Runtime]
KEY = "atelier-lyon"
PATH = f"/api/webhooks/generic/{KEY}"


@dataclass
class Shop:
    runtime: Runtime
    client: httpx.Client
    clock: Clock
    store_id: UUID
    secret: str

    def post(
        self,
        event: dict[str, Any] | bytes,
        *,
        secret: str | None = None,
        at: datetime | None = None,
        signature: str | None = None,
        path: str = PATH,
    ) -> httpx.Response:
        """POST ``event`` signed like the docs say (``t=<unix>,v1=<HMAC of "<t>.<body>">``)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        moment = int((at or self.clock.now).timestamp())
        header = signature or sign(body, secret or self.secret, moment)
        return self.client.post(
            path,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
        )

    def events(self, event_type: str | None = None) -> list[Event]:
        with self.runtime.sessions() as session:
            query = select(Event).where(Event.store_id == self.store_id)
            if event_type is not None:
                query = query.where(Event.type == event_type)
            return list(session.scalars(query.order_by(Event.received_at, Event.id)))


@pytest.fixture
def shop(database_url: str, make_runtime: MakeRuntime, clock: Clock) -> Iterator[Shop]:
    runtime = make_runtime(database_url)
    with runtime.sessions() as session, session.begin():
        store, secret = create_generic_store(
            session, KEY, secrets=runtime.secrets, now=clock.now, name="Atelier Lyon"
        )
        store.storefront_urls = {"*": {"checkout": "https://atelier.example.fr/panier/{token}"}}
        store_id = store.id
    app = Starlette(routes=generic_handlers.routes())
    app.state.runtime = runtime
    with serve(app) as client:
        yield Shop(runtime, client, clock, store_id, secret)


def order_event(**changes: Any) -> dict[str, Any]:
    """An order placed on a Django shop, as docs/generic-stores.md shows it."""
    event: dict[str, Any] = {
        "id": "evt-order-1042",
        "type": "order.placed",
        "occurred_at": "2026-11-23T09:58:00+01:00",
        "contact": {
            "email": "Claire.Dubois@Example.fr",
            "first_name": "Claire",
            "last_name": "Dubois",
            "language": "fr_FR",
            "country": "fr",
            "phone": "+33 6 12 34 56 78",
            "user_id": "42",
        },
        "order": {
            "id": "1042",
            "number": "A-1042",
            "currency": "eur",
            "cart_id": "cart-77",
            "lines": [
                {
                    "product_name": "Bol en grès",
                    "variant_name": "Bleu",
                    "sku": "BOL-BLEU",
                    "product_id": "p-9",
                    "quantity": 2,
                    "unit_price": "24.50",
                    "image_url": "https://atelier.example.fr/media/bol.webp",
                }
            ],
            "shipping": 5.9,
        },
        "properties": {"source": "wagtail"},
    }
    event.update(changes)
    return event


def cart_event(updated_at: datetime, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": f"evt-cart-77-{int(updated_at.timestamp())}",
        "type": "cart.updated",
        "occurred_at": updated_at.isoformat(),
        "contact": {"email": "claire.dubois@example.fr", "language": "fr"},
        "cart": {
            "id": "cart-77",
            "token": "tok-77",
            "currency": "EUR",
            "lines": [{"product_name": "Bol en grès", "quantity": 2, "unit_price": 24.5}],
        },
    }
    event.update(changes)
    return event


# -- recording ------------------------------------------------------------------------------


def test_a_signed_order_is_recorded_with_its_contact_and_totals(shop: Shop) -> None:
    # when the shop posts a signed order
    response = shop.post(order_event())
    # then it is accepted and recorded once, as order.placed keyed by the shop's event id
    assert response.status_code == 200
    [recorded] = shop.events()
    assert response.json() == {"accepted": True, "duplicate": False, "event_id": str(recorded.id)}
    event = DomainEvent.model_validate(recorded.payload)
    assert event.type is EventType.ORDER_PLACED
    assert event.idempotency_key == "order.placed:evt-order-1042"
    # and the contact is normalised (email, language, country, phone)
    contact = event.contact
    assert (contact.email, contact.language, contact.country, contact.phone) == (
        "claire.dubois@example.fr",
        "fr-FR",
        "FR",
        "+33612345678",
    )
    assert contact.platform_user_id == "42"
    # and the order's missing totals are computed from its lines
    order = event.order
    assert order is not None
    assert (order.currency, order.number, order.checkout_id) == ("EUR", "A-1042", "cart-77")
    assert order.lines[0].total_price == Decimal("49.00")
    assert (order.subtotal, order.shipping, order.total) == (
        Decimal("49.00"),
        Decimal("5.9"),
        Decimal("54.90"),
    )
    assert event.properties == {"source": "wagtail"}


def test_the_same_event_twice_is_recorded_once(shop: Shop) -> None:
    first = shop.post(order_event())
    shop.clock.advance(seconds=30)
    again = shop.post(order_event())  # a retry, signed again
    assert first.json()["duplicate"] is False
    assert again.json()["duplicate"] is True
    assert again.json()["event_id"] == first.json()["event_id"]
    assert len(shop.events()) == 1


def test_a_sign_up_and_a_custom_event(shop: Shop) -> None:
    signed_up = shop.post(
        order_event(id="u-42", type="customer.signed_up", order=None, properties={})
    )
    custom = shop.post(
        order_event(
            id="w-1",
            type="custom.wishlist_added",
            order=None,
            properties={"product_id": "p-9", "price": 24.5},
        )
    )
    assert signed_up.status_code == custom.status_code == 200
    by_type = {e.type: DomainEvent.model_validate(e.payload) for e in shop.events()}
    assert by_type["customer.signed_up"].idempotency_key == "customer.signed_up:u-42"
    wish = by_type["custom"]
    assert wish.custom_name == "custom.wishlist_added"
    assert wish.name == "custom.wishlist_added"
    assert wish.properties == {"product_id": "p-9", "price": 24.5}  # JSON types kept


def test_a_deletion_is_recorded_for_erasure(shop: Shop) -> None:
    response = shop.post(order_event(id="del-42", type="customer.deleted", order=None))
    assert response.status_code == 200
    [recorded] = shop.events()
    assert recorded.type == "customer.deleted"


# -- abandoned carts ------------------------------------------------------------------------


def test_a_cart_fires_after_the_delay_and_its_order_is_a_recovery(shop: Shop) -> None:
    # given the shop reports a cart, then an update
    t0 = shop.clock.now
    first = shop.post(cart_event(t0))
    assert first.json()["cart"] == "open"
    shop.clock.advance(minutes=5)
    shop.post(cart_event(shop.clock.now))
    # and a stale replay of the first (its own signature time is recent)
    stale = shop.post(cart_event(t0, id="evt-cart-77-replayed"))
    assert stale.json() == {"accepted": True, "duplicate": True, "cart": "open"}
    # when an hour passes without update, then cart.abandoned fires with the recovery link
    shop.clock.advance(minutes=60)
    assert raise_abandoned_checkouts(shop.runtime) == 1
    [abandoned] = shop.events("cart.abandoned")
    assert abandoned.payload["cart"]["recovery_url"] == "https://atelier.example.fr/panier/tok-77"
    assert abandoned.payload["cart"]["total"] == "49.0"
    # and the order placed from that cart is attributed to the recovery
    shop.clock.advance(hours=3)
    shop.post(order_event(occurred_at=shop.clock.now.isoformat()))
    [placed] = shop.events("order.placed")
    assert placed.payload["properties"] == {"source": "wagtail", "recovered_checkout_id": "cart-77"}
    with shop.runtime.sessions() as session:
        assert session.scalars(select(Checkout.status)).one() == CheckoutStatus.RECOVERED


def test_a_cart_with_its_own_recovery_url_keeps_it(shop: Shop) -> None:
    event = cart_event(shop.clock.now)
    event["cart"]["recovery_url"] = "https://atelier.example.fr/r/abc"
    shop.post(event)
    shop.clock.advance(minutes=60)
    raise_abandoned_checkouts(shop.runtime)
    [abandoned] = shop.events("cart.abandoned")
    assert abandoned.payload["cart"]["recovery_url"] == "https://atelier.example.fr/r/abc"


def test_an_anonymous_cart_is_accepted_but_not_watched(shop: Shop) -> None:
    response = shop.post(cart_event(shop.clock.now, contact=None))
    assert response.json() == {"accepted": True, "duplicate": False}
    assert shop.events() == []


# -- signatures and replays -----------------------------------------------------------------


def test_a_replay_after_five_minutes_is_refused(shop: Shop) -> None:
    # given a request captured when it was sent
    body = json.dumps(order_event()).encode()
    captured = sign(body, shop.secret, int(shop.clock.now.timestamp()))
    # when it is replayed six minutes later
    shop.clock.advance(minutes=6)
    response = shop.post(body, signature=captured)
    # then it is refused, saying why
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "STALE_TIMESTAMP"
    assert "360 s" in response.json()["error"]["message"]
    assert shop.events() == []


def test_a_clock_a_few_minutes_off_is_tolerated_either_way(shop: Shop) -> None:
    ahead = shop.post(order_event(), at=shop.clock.now + timedelta(minutes=4))
    behind = shop.post(order_event(id="evt-2"), at=shop.clock.now - timedelta(minutes=4))
    future = shop.post(order_event(id="evt-3"), at=shop.clock.now + timedelta(minutes=6))
    assert (ahead.status_code, behind.status_code, future.status_code) == (200, 200, 401)


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        ("", "MISSING_SIGNATURE"),
        ("sha256=abc", "MALFORMED_SIGNATURE"),
        ("t=now,v1=" + "0" * 64, "MALFORMED_SIGNATURE"),
        ("t=1795424400", "MALFORMED_SIGNATURE"),
        ("t=1795424400,v1=xyz", "MALFORMED_SIGNATURE"),
    ],
)
def test_a_missing_or_malformed_signature_is_refused(shop: Shop, signature: str, code: str) -> None:
    body = json.dumps(order_event()).encode()
    response = shop.client.post(PATH, content=body, headers={SIGNATURE_HEADER: signature})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_a_wrong_secret_or_a_tampered_body_is_refused(shop: Shop) -> None:
    wrong = shop.post(order_event(), secret="rls_whsec_guessed")
    body = json.dumps(order_event()).encode()
    signature = sign(body, shop.secret, int(shop.clock.now.timestamp()))
    tampered = shop.post(body.replace(b"Claire", b"Mallory"), signature=signature)
    assert wrong.status_code == tampered.status_code == 401
    assert wrong.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert shop.events() == []


def test_one_matching_signature_among_several_is_enough(shop: Shop) -> None:
    # given the shop signs with its old and new secrets during a rotation
    body = json.dumps(order_event()).encode()
    moment = int(shop.clock.now.timestamp())
    old = sign(body, "rls_whsec_old", moment).split(",")[1]
    header = f"{sign(body, shop.secret, moment)},{old}"
    assert shop.post(body, signature=header).status_code == 200


def test_a_rotated_secret_replaces_the_old_one(shop: Shop) -> None:
    with shop.runtime.sessions() as session, session.begin():
        new = rotate_generic_secret(session, KEY, secrets=shop.runtime.secrets)
    assert shop.post(order_event()).status_code == 401
    assert shop.post(order_event(), secret=new).status_code == 200


def test_an_unknown_or_uninstalled_store_is_not_found(shop: Shop) -> None:
    unknown = shop.post(order_event(), path="/api/webhooks/generic/nobody")
    invalid = shop.post(order_event(), path="/api/webhooks/generic/Not%20A%20Key")
    assert unknown.status_code == invalid.status_code == 404
    assert unknown.json()["error"]["code"] == "UNKNOWN_STORE"
    with shop.runtime.sessions() as session, session.begin():
        session.execute(
            update(Store).where(Store.id == shop.store_id).values(status=StoreStatus.UNINSTALLED)
        )
    assert shop.post(order_event()).status_code == 404


# -- what is wrong with a body ---------------------------------------------------------------


def problems(response: httpx.Response) -> dict[str, str]:
    return {p["field"]: p["message"] for p in response.json()["error"]["problems"]}


def test_a_body_that_is_not_json_is_a_bad_request(shop: Shop) -> None:
    response = shop.post(b'{"id": ')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_JSON"


def test_each_problem_of_an_invalid_event_is_named(shop: Shop) -> None:
    event = order_event(occurred_at="yesterday")
    event["order"]["lines"][0]["quantity"] = -1
    event["order"]["lines"][0]["colour"] = "blue"
    response = shop.post(event)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_EVENT"
    found = problems(response)
    assert set(found) == {
        "occurred_at",
        "order.lines.0.quantity",
        "order.lines.0.colour",
    }
    assert "Claire" not in response.text  # values are never echoed


def test_an_event_missing_its_parts_says_so(shop: Shop) -> None:
    no_contact = shop.post(order_event(contact=None))
    no_order = shop.post(order_event(order=None))
    no_cart = shop.post(cart_event(shop.clock.now, cart=None))
    assert {no_contact.status_code, no_order.status_code, no_cart.status_code} == {422}
    assert "order.placed needs a contact" in no_contact.text
    assert "order.placed needs an order" in no_order.text
    assert "cart.updated needs a cart" in no_cart.text


def test_an_unknown_type_or_a_bad_phone_is_refused(shop: Shop) -> None:
    unknown = shop.post(order_event(type="order.shipped"))
    assert unknown.status_code == 422
    assert "type" in problems(unknown)
    event = order_event()
    event["contact"]["phone"] = "06 12 34 56 78"  # national: the country is unknown
    bad_phone = shop.post(event)
    assert bad_phone.status_code == 422
    assert "contact.phone" in problems(bad_phone)


def test_a_huge_body_is_refused_before_reading_it_all(shop: Shop) -> None:
    response = shop.post(b"{" + b" " * 1_000_001 + b"}")
    assert response.status_code == 413


# -- creating generic stores ----------------------------------------------------------------


def test_creating_a_generic_store_returns_its_secret_once(shop: Shop) -> None:
    with shop.runtime.sessions() as session, session.begin():
        store, secret = create_generic_store(
            session, "wagtail-shop", secrets=shop.runtime.secrets, now=shop.clock.now
        )
        assert secret.startswith("rls_whsec_")
        assert store.kind == StoreKind.GENERIC
        assert store.api_url == "generic:wagtail-shop"
        assert store.webhook_secret_encrypted is not None
        assert secret not in store.webhook_secret_encrypted  # encrypted at rest
        assert find_generic_store(session, "wagtail-shop") is store
    with shop.runtime.sessions() as session, pytest.raises(GenericStoreError, match="exists"):
        create_generic_store(session, KEY, secrets=shop.runtime.secrets, now=shop.clock.now)
    with shop.runtime.sessions() as session, pytest.raises(GenericStoreError, match="not a valid"):
        create_generic_store(session, "Bad Key!", secrets=shop.runtime.secrets, now=shop.clock.now)
