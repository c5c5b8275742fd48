"""``POST /api/webhooks/saleor``: deliveries signed by a (fake) Saleor, recorded in a real DB."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from relance.plugin.saleor import webhooks
from relance.plugin.saleor.signature import legacy_signature
from relance.runtime import Runtime
from relance.store.models import Checkout, CheckoutStatus, Contact, Event, Store, StoreStatus
from relance.tasks.checkouts import raise_abandoned_checkouts
from tests.fixtures.runtime import Clock, InlineDispatcher, RecordingDispatcher
from tests.fixtures.saleor import (
    FakeSaleor,
    SaleorSigner,
    install_store,
    post_unsigned_webhook,
    post_webhook,
    saleor_app,
    sample_body,
    serve,
    unreachable_database_url,
)
from tests.plugin.saleor.bodies import body_for, event_data

MakeRuntime = Callable[..., Runtime]
JWKS_PATH = "/.well-known/jwks.json"


@dataclass
class Installed:
    runtime: Runtime
    store: Store
    client: httpx.Client
    fake: FakeSaleor

    def events(self) -> list[Event]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Event).where(Event.store_id == self.store.id)))

    def stored_jwks(self) -> dict[str, Any] | None:
        with self.runtime.sessions() as session:
            store = session.get(Store, self.store.id)
            assert store is not None
            return store.jwks

    @property
    def dispatched(self) -> list[Any]:
        dispatcher = self.runtime.dispatcher
        assert isinstance(dispatcher, RecordingDispatcher)
        return dispatcher.sent

    def jwks_fetches(self) -> int:
        return len(self.fake.requests_to(JWKS_PATH))


@pytest.fixture
def installed(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> Iterator[Installed]:
    """relance installed for ``fake_saleor`` (real handshake), with a client on its routes."""
    runtime = make_runtime(database_url)
    store = install_store(runtime, fake_saleor)
    with serve(saleor_app(runtime)) as client:
        yield Installed(runtime, store, client, fake_saleor)


def test_a_signed_order_is_recorded_and_dispatched(installed: Installed) -> None:
    # given Saleor's ORDER_CREATED body, signed with its key
    body = sample_body("order_created")
    # when it is delivered
    response = post_webhook(installed.client, installed.fake, "order_created", body)
    # then relance accepts it
    assert response.status_code == 200
    assert response.json() == {"accepted": True, "duplicate": False}
    # and one order.placed event is in the inbox, for that store
    [event] = installed.events()
    assert event.type == "order.placed"
    assert event.idempotency_key.startswith("order.placed:T3JkZXI6")
    assert event.payload["contact"]["language"] == "de"
    assert event.payload["order"]["total"] == "132.9"
    # and its id went to a worker
    assert installed.dispatched == [("process_event", event.id)]


def test_the_same_delivery_twice_is_recorded_once(installed: Installed) -> None:
    # given the same delivery sent twice (Saleor retries and duplicates)
    body = sample_body("order_created")
    first = post_webhook(installed.client, installed.fake, "order_created", body)
    second = post_webhook(installed.client, installed.fake, "order_created", body)
    # then both are acknowledged, the second as a duplicate
    assert first.status_code == second.status_code == 200
    assert first.json() == {"accepted": True, "duplicate": False}
    assert second.json() == {"accepted": True, "duplicate": True}
    # and there is one event, the only one ever dispatched
    [event] = installed.events()
    assert {event_id for _, event_id in installed.dispatched} == {event.id}


def test_a_tampered_body_is_refused(installed: Installed) -> None:
    # given a body changed after Saleor signed it
    body = sample_body("order_created")
    signature = installed.fake.signer.sign(body)
    tampered = body.replace(b"jonas.becker@example.de", b"attacker@example.com")
    # when delivered
    response = post_webhook(
        installed.client, installed.fake, "order_created", tampered, signature=signature
    )
    # then it is refused and nothing is recorded
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert installed.events() == []
    assert installed.dispatched == []


def test_an_unsigned_delivery_is_refused(installed: Installed) -> None:
    response = post_unsigned_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "MISSING_SIGNATURE"
    assert installed.events() == []


def test_a_delivery_from_a_store_that_is_not_installed_is_refused(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> None:
    # given relance was never installed in this Saleor
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        # when it delivers a correctly signed webhook
        response = post_webhook(client, fake_saleor, "order_created", sample_body("order_created"))
    # then it is refused (Saleor does not retry 4xx)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_STORE"


def test_a_delivery_to_an_uninstalled_store_is_refused(installed: Installed) -> None:
    # given the merchant uninstalled relance
    with installed.runtime.sessions() as session, session.begin():
        session.execute(
            update(Store)
            .where(Store.id == installed.store.id)
            .values(status=StoreStatus.UNINSTALLED)
        )
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 401
    assert installed.events() == []


def test_malformed_json_is_a_bad_request(installed: Installed) -> None:
    # given a correctly signed body that is not JSON
    response = post_webhook(installed.client, installed.fake, "order_created", b'{"order": ')
    # then it is refused with a message, and nothing is recorded
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PAYLOAD"
    assert "not JSON" in response.json()["error"]["message"]
    assert installed.events() == []


def test_a_payload_without_email_names_the_field(
    installed: Installed, caplog: pytest.LogCaptureFixture
) -> None:
    # given an order with no email anywhere
    body = (
        sample_body("order_created")
        .replace(b'"userEmail": "jonas.becker@example.de"', b'"userEmail": null')
        .replace(b'"email": "jonas.becker@example.de"', b'"email": null')
    )
    caplog.set_level(logging.DEBUG)
    # when delivered
    response = post_webhook(installed.client, installed.fake, "order_created", body)
    # then the 400 says which field is wrong
    assert response.status_code == 400
    assert "order.userEmail" in response.json()["error"]["message"]
    assert installed.events() == []
    # and nothing personal or secret was logged
    assert "Becker" not in caplog.text
    assert installed.fake.valid_token not in caplog.text


def test_an_event_relance_does_not_handle_is_acknowledged_and_ignored(installed: Installed) -> None:
    response = post_webhook(installed.client, installed.fake, "product_updated", b'{"x": 1}')
    assert response.status_code == 200
    assert response.json() == {"accepted": False, "reason": "ignored"}
    assert installed.events() == []


def test_a_delivery_without_saleor_headers_is_a_bad_request(installed: Installed) -> None:
    body = sample_body("order_created")
    response = installed.client.post(
        "/api/webhooks/saleor",
        content=body,
        headers={"Saleor-Signature": installed.fake.signer.sign(body)},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MISSING_HEADER"


def test_deprecated_header_names_alone_are_understood(installed: Installed) -> None:
    # given an older Saleor sending only the X- names (and the API URL)
    body = sample_body("order_created")
    response = installed.client.post(
        "/api/webhooks/saleor",
        content=body,
        headers={
            "X-Saleor-Event": "order_created",
            "X-Saleor-Signature": installed.fake.signer.sign(body),
            "Saleor-Api-Url": installed.fake.api_url,
        },
    )
    assert response.status_code == 200
    assert response.json()["accepted"] is True


def test_a_rotated_key_is_fetched_once_and_the_delivery_accepted(installed: Installed) -> None:
    # given Saleor rotated its key (new kid) after relance was installed
    assert installed.jwks_fetches() == 1  # at install
    old_jwks = installed.stored_jwks()
    new_signer = installed.fake.rotate_key()
    # when the first delivery signed with the new key arrives
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    # then relance refetched the JWKS, verified, and accepted it
    assert response.status_code == 200
    assert response.json()["accepted"] is True
    assert installed.jwks_fetches() == 2
    # and the new keys are stored, so the next delivery needs no fetch
    assert installed.stored_jwks() == new_signer.jwks() != old_jwks
    body = sample_body("order_created").replace(b'"number": "10482"', b'"number": "10483"')
    assert post_webhook(installed.client, installed.fake, "order_created", body).status_code == 200
    assert installed.jwks_fetches() == 2


def test_a_key_replaced_under_the_same_kid_is_fetched_too(installed: Installed) -> None:
    # given Saleor replaced its key but kept the kid (Saleor versions with the constant kid "1")
    installed.fake.rotate_key(kid=installed.fake.signer.kid)
    # when a delivery signed with the new key arrives, then it is accepted after one refetch
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 200
    assert installed.jwks_fetches() == 2


def test_unknown_kids_refetch_at_most_once_a_minute(installed: Installed, clock: Clock) -> None:
    # given deliveries signed by a key Saleor never published (forged)
    forger = SaleorSigner()
    body = sample_body("order_created")
    # when several arrive within a minute
    responses = [
        post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
        for _ in range(3)
    ]
    clock.advance(seconds=59)
    responses.append(
        post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
    )
    # then the first is refused after one refetch; the others cannot be checked against fresh
    # keys yet, so they are deferred (503: a genuine delivery signed with a key rotated meanwhile
    # would be retried by Saleor), and Saleor's JWKS was fetched again only once
    assert [r.status_code for r in responses] == [401, 503, 503, 503]
    assert responses[1].json()["error"]["code"] == "SIGNATURE_NOT_VERIFIABLE_YET"
    assert responses[1].headers["Retry-After"] == "60"
    assert installed.jwks_fetches() == 2
    # and once the minute has passed, a refetch is allowed again
    clock.advance(seconds=2)
    post_webhook(installed.client, installed.fake, "order_created", body, signature=forger.sign)
    assert installed.jwks_fetches() == 3
    assert installed.events() == []


def test_a_rotation_right_after_a_forgery_is_retried_not_lost(
    installed: Installed, clock: Clock
) -> None:
    # given a forged delivery just used up the refetch allowance
    forger = SaleorSigner()
    body = sample_body("order_created")
    forged = post_webhook(
        installed.client, installed.fake, "order_created", body, signature=forger.sign
    )
    assert forged.status_code == 401
    # when Saleor rotates its key and delivers a genuine order at once
    installed.fake.rotate_key()
    first = post_webhook(installed.client, installed.fake, "order_created", body)
    # then it is deferred (Saleor retries 5xx), not refused
    assert first.status_code == 503
    assert installed.events() == []
    # and Saleor's retry after the interval refetches the keys and is accepted
    clock.advance(seconds=61)
    retry = post_webhook(installed.client, installed.fake, "order_created", body)
    assert retry.status_code == 200
    assert len(installed.events()) == 1


def test_database_down_answers_503_so_saleor_retries(
    installed: Installed, make_runtime: MakeRuntime, database_url: str, tmp_path: Path
) -> None:
    # given relance's database becomes unreachable
    down = make_runtime(unreachable_database_url(database_url, tmp_path))
    body = sample_body("order_created")
    # when Saleor delivers
    with serve(saleor_app(down)) as client:
        response = post_webhook(client, installed.fake, "order_created", body)
    # then relance answers 503 (Saleor retries 5xx with back-off)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
    # and the retry, once the database is back, is recorded
    retried = post_webhook(installed.client, installed.fake, "order_created", body)
    assert retried.status_code == 200
    assert len(installed.events()) == 1


def test_database_lost_while_recording_answers_503(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the database goes away between the store lookup and the insert
    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT INTO events", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(webhooks, "accept_domain_event", unreachable)
    # when a delivery arrives, then Saleor is told to retry
    response = post_webhook(
        installed.client, installed.fake, "order_created", sample_body("order_created")
    )
    assert response.status_code == 503
    assert installed.dispatched == []


# -- every subscribed event, as Saleor sends it (bodies built on the real schema) ------------

#: Saleor event → the domain event it is recorded as.
RECORDED_AS = {
    "ORDER_CREATED": "order.placed",
    "ORDER_FULLY_PAID": "order.paid",
    "ORDER_CANCELLED": "order.cancelled",
    "ORDER_FULLY_REFUNDED": "order.refunded",
    "CUSTOMER_CREATED": "customer.signed_up",
    "CUSTOMER_UPDATED": "customer.updated",
    "ACCOUNT_CONFIRMED": "customer.confirmed",
    "CUSTOMER_DELETED": "customer.deleted",
    "ACCOUNT_DELETED": "customer.deleted",
}


def send(installed: Installed, event: str, data: dict[str, Any] | None = None) -> httpx.Response:
    """POST relance's subscription body for ``event`` (``"ORDER_CREATED"``), signed."""
    return post_webhook(installed.client, installed.fake, event.lower(), body_for(event, data))


@pytest.mark.parametrize("event", sorted(RECORDED_AS))
def test_each_event_is_recorded_once_whatever_saleor_retries(
    installed: Installed, event: str
) -> None:
    # given a delivery Saleor sends, then sends again (a timeout on its side, or a duplicate)
    first = send(installed, event)
    retry = send(installed, event)
    # then both are acknowledged, the second as a duplicate
    assert first.status_code == retry.status_code == 200
    assert first.json() == {"accepted": True, "duplicate": False}
    assert retry.json() == {"accepted": True, "duplicate": True}
    # and one event of the right type is in the inbox, the only one ever dispatched (again
    # for the retry, as it is still pending here: processing it twice does nothing more)
    [recorded] = installed.events()
    assert recorded.type == RECORDED_AS[event]
    assert {event_id for _, event_id in installed.dispatched} == {recorded.id}


def test_a_body_with_resolver_errors_but_its_data_is_recorded(installed: Installed) -> None:
    # given Saleor could not resolve one field (it adds a top-level "errors" list)
    data = json.loads(body_for("ORDER_CREATED"))
    data["errors"] = [{"message": "Cannot resolve thumbnail"}]
    response = post_webhook(
        installed.client, installed.fake, "order_created", json.dumps(data).encode()
    )
    assert response.json() == {"accepted": True, "duplicate": False}


@pytest.fixture
def processing(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> Iterator[Installed]:
    """Like ``installed``, but each recorded event is processed at once (contacts updated)."""
    dispatcher = InlineDispatcher()
    runtime = make_runtime(database_url, dispatcher=dispatcher)
    dispatcher.runtime = runtime
    store = install_store(runtime, fake_saleor)
    with serve(saleor_app(runtime)) as client:
        yield Installed(runtime, store, client, fake_saleor)


def contact_of(installed: Installed, email: str) -> Contact:
    with installed.runtime.sessions() as session:
        contact = session.scalars(
            select(Contact).where(Contact.store_id == installed.store.id, Contact.email == email)
        ).one()
        session.expunge(contact)
        return contact


def test_a_customer_signing_up_then_editing_their_account_keeps_the_contact_current(
    processing: Installed,
) -> None:
    # when Lena signs up (German), then changes her name and address
    assert send(processing, "CUSTOMER_CREATED").status_code == 200
    lena = contact_of(processing, "lena.schmidt@example.de")
    assert (lena.first_name, lena.last_name, lena.language) == ("Lena", "Schmidt", "de")
    assert lena.platform_user_id == "VXNlcjo1MTAy"
    assert send(processing, "CUSTOMER_UPDATED").status_code == 200
    # then the contact follows
    lena = contact_of(processing, "lena.schmidt@example.de")
    assert (lena.last_name, lena.country, lena.language) == ("Schmidt-Weber", "AT", "de")
    # and her consent stays relance's own (Saleor's newsletter metadata is not read)
    assert lena.consents == {}


def test_a_confirmed_account_is_a_french_contact(processing: Installed) -> None:
    assert send(processing, "ACCOUNT_CONFIRMED").status_code == 200
    hugo = contact_of(processing, "hugo.martin@example.fr")
    assert (hugo.first_name, hugo.language) == ("Hugo", "fr")


def test_an_order_counts_once_in_the_contacts_stats(processing: Installed) -> None:
    # given the same order delivered twice
    send(processing, "ORDER_CREATED")
    send(processing, "ORDER_CREATED")
    # then it counts once
    jonas = contact_of(processing, "jonas.becker@example.de")
    assert (jonas.orders_count, str(jonas.total_spent), jonas.language) == (1, "132.90", "de")


# -- checkouts ----------------------------------------------------------------------------


def checkout_at(moment: datetime, **changes: Any) -> dict[str, Any]:
    """The French sample checkout, last updated at ``moment``."""
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["updatedAt"] = moment.isoformat()
    data["checkout"].update(changes)
    return data


def configure_store(installed: Installed, **values: Any) -> None:
    with installed.runtime.sessions() as session, session.begin():
        session.execute(update(Store).where(Store.id == installed.store.id).values(**values))


def checkout_row(installed: Installed) -> Checkout:
    with installed.runtime.sessions() as session:
        row = session.scalars(select(Checkout).where(Checkout.store_id == installed.store.id)).one()
        session.expunge(row)
        return row


def test_an_abandoned_french_checkout_fires_and_its_order_is_a_recovery(
    installed: Installed, clock: Clock
) -> None:
    # given a store with a storefront URL template for its French channel
    configure_store(
        installed,
        storefront_urls={
            "boutique-fr": {"checkout": "https://boutique.example.fr/{lang}/panier?token={token}"}
        },
    )
    # when Saleor reports Camille's checkout (CHECKOUT_CREATED, then an update)
    t0 = clock.now
    created = send(installed, "CHECKOUT_CREATED", checkout_at(t0))
    assert created.json() == {"accepted": True, "duplicate": False, "checkout": "open"}
    updated = send(installed, "CHECKOUT_UPDATED", checkout_at(t0 + timedelta(minutes=2)))
    assert updated.json() == {"accepted": True, "duplicate": False, "checkout": "open"}
    # and an older delivery is retried late
    late = send(installed, "CHECKOUT_UPDATED", checkout_at(t0 + timedelta(minutes=1)))
    assert late.json() == {"accepted": True, "duplicate": True, "checkout": "open"}
    # then it is watched until an hour after its last update
    assert checkout_row(installed).due_at == t0 + timedelta(minutes=62)
    assert [e.type for e in installed.events()] == ["checkout.updated", "checkout.updated"]
    # and the sweep declares it abandoned then, with French names and a link back
    clock.advance(minutes=62)
    assert raise_abandoned_checkouts(installed.runtime) == 1
    [abandoned] = [e for e in installed.events() if e.type == "cart.abandoned"]
    cart = abandoned.payload["cart"]
    assert [line["product_name"] for line in cart["lines"]] == [
        "Pull en laine mérinos",
        "T-shirt en coton bio",
    ]
    assert cart["recovery_url"] == (
        "https://boutique.example.fr/fr/panier?token=6f1b2c9e-4d7a-4b8e-9a51-2e3f0c7d8b14"
    )
    assert abandoned.payload["contact"]["email"] == "camille.lefebvre@example.fr"
    # when she orders from that checkout the next day
    clock.advance(days=1)
    order = event_data("ORDER_CREATED")
    order["order"]["checkoutId"] = event_data("CHECKOUT_UPDATED")["checkout"]["id"]
    assert send(installed, "ORDER_CREATED", order).status_code == 200
    # then the order is attributed to the recovered checkout
    [placed] = [e for e in installed.events() if e.type == "order.placed"]
    assert placed.payload["properties"] == {"recovered_checkout_id": order["order"]["checkoutId"]}
    assert checkout_row(installed).status == CheckoutStatus.RECOVERED


def test_an_order_before_the_delay_closes_the_checkout_silently(
    installed: Installed, clock: Clock
) -> None:
    send(installed, "CHECKOUT_UPDATED", checkout_at(clock.now))
    clock.advance(minutes=10)
    order = event_data("ORDER_CREATED")
    order["order"]["checkoutId"] = event_data("CHECKOUT_UPDATED")["checkout"]["id"]
    send(installed, "ORDER_CREATED", order)
    clock.advance(hours=3)
    assert raise_abandoned_checkouts(installed.runtime) == 0
    assert checkout_row(installed).status == CheckoutStatus.CONVERTED


def test_an_anonymous_checkout_is_acknowledged_but_not_watched(
    installed: Installed, clock: Clock
) -> None:
    response = send(installed, "CHECKOUT_UPDATED", checkout_at(clock.now, email=None, user=None))
    assert response.status_code == 200
    assert response.json() == {"accepted": True, "duplicate": False}
    assert installed.events() == []


# -- APP_DELETED --------------------------------------------------------------------------


def test_relance_deleted_from_saleor_uninstalls_the_store(
    installed: Installed, clock: Clock
) -> None:
    # when Saleor reports that relance (its app id) was deleted
    response = send(installed, "APP_DELETED")
    # then the store is uninstalled and its token forgotten; nothing goes to the inbox
    assert response.json() == {"accepted": True, "duplicate": False}
    with installed.runtime.sessions() as session:
        store = session.get(Store, installed.store.id)
        assert store is not None
        assert store.status == StoreStatus.UNINSTALLED
        assert store.auth_token_encrypted is None
        assert store.uninstalled_at == clock.now
        assert store.jwks is not None  # its data is kept until the operator purges it
    assert installed.events() == []
    # and later deliveries are refused
    assert send(installed, "ORDER_CREATED").status_code == 401


def test_another_app_deleted_changes_nothing(installed: Installed) -> None:
    data = event_data("APP_DELETED")
    data["app"] = {"id": "QXBwOjk5", "identifier": "saleor.app.search"}
    response = send(installed, "APP_DELETED", data)
    assert response.json() == {"accepted": False, "reason": "another app was deleted"}
    with installed.runtime.sessions() as session:
        store = session.get(Store, installed.store.id)
        assert store is not None
        assert store.status == StoreStatus.ACTIVE


# -- legacy HMAC signatures ----------------------------------------------------------------


def test_a_legacy_hmac_signature_is_accepted_with_the_stores_secret(installed: Installed) -> None:
    # given a hand-made webhook with a secretKey, known to relance
    configure_store(
        installed, webhook_secret_encrypted=installed.runtime.secrets.encrypt("s3cret-key")
    )
    body = body_for("ORDER_CREATED")
    # when Saleor signs with it (hex HMAC-SHA256 of the body)
    response = post_webhook(
        installed.client,
        installed.fake,
        "order_created",
        body,
        signature=legacy_signature(body, "s3cret-key").upper(),
    )
    # then the delivery is accepted
    assert response.json() == {"accepted": True, "duplicate": False}
    # and one signed with another secret is refused
    forged = post_webhook(
        installed.client,
        installed.fake,
        "order_created",
        body,
        signature=legacy_signature(body, "guessed"),
    )
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "INVALID_SIGNATURE"


def test_a_legacy_signature_without_a_stored_secret_is_refused(installed: Installed) -> None:
    body = body_for("ORDER_CREATED")
    response = post_webhook(
        installed.client,
        installed.fake,
        "order_created",
        body,
        signature=legacy_signature(body, "anything"),
    )
    assert response.status_code == 401
    assert installed.events() == []
