"""Web Push end to end: a published campaign's ``send_push`` step → an encrypted, VAPID-signed
POST to every browser of the contact → the local push service decrypts it with each browser's
keys → the message SENT with the count of devices reached. Gone subscriptions (404/410) are
removed; 5xx are retried; keys missing, no subscription or consent withdrawn skip; SQLite and
PostgreSQL.

The push service listens on 127.0.0.1 under the name ``push.example.test`` (a fake DNS); the
runtime allow-lists ``127.0.0.0/8`` as an operator would for an internal push service (one test
runs without it and is refused)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from relance.automation.contacts import ContactUpdate
from relance.automation.events import EventType
from relance.channels.webpush import PushTarget, StoredPushSettings, stored_push_settings
from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.crypto import SecretBox
from relance.store.models import (
    Contact,
    Message,
    MessageStatus,
    PushSubscription,
    Store,
)
from relance.store.repositories.contacts import set_consent, upsert_contact
from relance.store.repositories.push import (
    configure_push,
    delete_contact_subscriptions,
    save_subscription,
)
from tests.fixtures.campaigns import CampaignShop, event, inline_runtime, install_demo_store, order
from tests.fixtures.push_service import PUSH_HOST, Answer, Browser, PushService
from tests.fixtures.runtime import Clock, InlineDispatcher

EMAIL = "ada@example.com"


@dataclass
class Shop(CampaignShop):
    push: PushService
    dispatcher: InlineDispatcher

    def configure_push(self) -> str:
        """Generate the store's VAPID keys; returns the public key."""
        with self.runtime.sessions() as session, session.begin():
            change = configure_push(
                session,
                self.store_id,
                generate=True,
                subject="mailto:push@atelier.example",
                secrets=self.runtime.secrets,
                now=self.clock(),
            )
            assert change.violations == []
            assert change.settings is not None
            return change.settings.vapid_public_key

    def public_key(self) -> str:
        with self.runtime.sessions() as session:
            store = session.get(Store, self.store_id)
            assert store is not None
            stored = stored_push_settings(store.channel_settings)
            assert stored is not None
            return stored.vapid_public_key

    def contact(self, email: str = EMAIL, **fields: Any) -> UUID:
        with self.runtime.sessions() as session, session.begin():
            contact = upsert_contact(
                session,
                self.store_id,
                ContactUpdate(email=email, first_name="Ada", **fields),
                self.clock(),
            )
            return contact.id

    def browser(self, email: str = EMAIL, user_agent: str = "Firefox") -> Browser:
        """A browser of the contact, subscribed with the store's current key and registered."""
        browser = self.push.subscribe(self.public_key())
        contact_id = self.contact(email)
        with self.runtime.sessions() as session, session.begin():
            save_subscription(
                session,
                self.store_id,
                contact_id,
                PushTarget(browser.endpoint, browser.p256dh, browser.auth),
                user_agent,
                self.clock(),
            )
        return browser

    def launch(self, *steps: dict[str, Any], default_language: str = "en") -> UUID:
        definition = {
            "trigger": {"type": "event", "events": ["order.placed"]},
            "entry_step": steps[0]["id"],
            "steps": list(steps),
            "default_language": default_language,
        }
        return self.publish(definition, name="push")

    def order_placed(self, email: str = EMAIL, number: str = "1001") -> None:
        placed = order("42.00", number=number, created_at=self.clock())
        self.send(event(EventType.ORDER_PLACED, email, at=self.clock(), order=placed))

    def messages(self) -> list[Message]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(Message).order_by(Message.created_at)))

    def message(self) -> Message:
        [message] = self.messages()
        return message

    def subscriptions(self) -> list[PushSubscription]:
        return self.rows(PushSubscription)

    def endpoints(self) -> set[str]:
        return {row.endpoint for row in self.subscriptions()}


def make_shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    clock: Clock,
    tmp_path: Path,
    push: PushService,
    *,
    allowed: list[str],
) -> Shop:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        public_url="http://relance.test",
        webhook_allowed_networks=allowed,
    )
    runtime = inline_runtime(make_runtime, database_url, settings=settings)
    store_id = install_demo_store(
        runtime,
        now=clock(),
        name="Atelier",
        consent_mode="opt_out",
        storefront_urls={"*": {"home": "https://atelier.example/"}},
    )
    assert isinstance(runtime.dispatcher, InlineDispatcher)
    return Shop(runtime, clock, store_id, push=push, dispatcher=runtime.dispatcher)


@pytest.fixture
def shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    clock: Clock,
    tmp_path: Path,
    use_push_service: PushService,
) -> Shop:
    shop = make_shop(
        database_url, make_runtime, clock, tmp_path, use_push_service, allowed=["127.0.0.0/8"]
    )
    shop.configure_push()
    return shop


def push_step(**more: Any) -> dict[str, Any]:
    return {
        "type": "send_push",
        "id": "push",
        "title": {
            "en": "Thank you {{ contact.first_name }}!",
            "fr": "Merci {{ contact.first_name }} !",
        },
        "body": {
            "en": "Order {{ order.number }} is on its way.",
            "fr": "Commande {{ order.number }} en route.",
        },
        "url": "https://atelier.example/orders/{{ order.number }}",
        **more,
    }


# --- delivered -----------------------------------------------------------------------------------


def test_every_browser_of_the_contact_gets_the_notification(shop: Shop) -> None:
    # given a contact who reads French, with two browsers subscribed, and a published campaign
    shop.contact(language="fr")
    laptop, phone = shop.browser(user_agent="Firefox"), shop.browser(user_agent="Chrome")
    shop.launch(push_step())
    # when an order is placed
    shop.order_placed(number="1042")
    # then both browsers got the notification, decrypted with their own keys
    message = shop.message()
    expected = {
        "title": "Merci Ada !",
        "body": "Commande 1042 en route.",
        "url": "https://atelier.example/orders/1042",
        "tag": str(message.id),
    }
    assert shop.push.refusals == []
    for browser in (laptop, phone):
        [push] = shop.push.pushes_to(browser)
        assert push.message == expected
        assert push.headers["topic"] == message.id.hex
        assert push.headers["ttl"] == "86400"
        assert push.headers["urgency"] == "normal"
        assert push.claims["aud"] == shop.push.origin
        assert push.claims["sub"] == "mailto:push@atelier.example"
        assert push.headers["authorization"].endswith(f"k={shop.public_key()}")
    # and the message records the devices reached
    assert (message.channel, message.status) == ("push", MessageStatus.SENT)
    assert message.subject == "push · 2 of 2 devices"
    assert message.to_address == PUSH_HOST
    assert message.language == "fr"
    assert message.sent_at == shop.clock()
    assert message.response_status == 201
    assert message.response_body == "device 1: HTTP 201 Created\ndevice 2: HTTP 201 Created"
    assert message.provider_message_id is not None
    assert message.provider_message_id.startswith(shop.push.origin + "/m/")
    assert message.error is None
    assert {row.last_success_at for row in shop.subscriptions()} == {shop.clock()}
    assert ("push", "send", "push") in shop.trace()


def test_the_language_falls_back_to_its_base_then_to_the_campaign_default(shop: Shop) -> None:
    shop.contact(language="pt-BR")
    browser = shop.browser()
    step = push_step(
        title={"en": "Thanks", "pt": "Obrigado {{ contact.first_name }}"},
        body={"en": "On its way", "pt": "A caminho — ção"},
        url=None,
    )
    shop.launch(step)
    shop.order_placed()
    [push] = shop.push.pushes_to(browser)
    # pt-BR → pt; without a URL of its own a click opens the storefront
    assert push.message["title"] == "Obrigado Ada"
    assert push.message["body"] == "A caminho — ção"
    assert push.message["url"] == "https://atelier.example/"
    assert shop.message().language == "pt"
    # a contact of unknown language gets the campaign's default
    shop.set_contacts(language=None)
    shop.order_placed()
    assert [p.message["title"] for p in shop.push.pushes_to(browser)] == ["Obrigado Ada", "Thanks"]


def test_a_transactional_push_is_urgent(shop: Shop) -> None:
    browser = shop.browser()
    shop.launch(push_step(transactional=True))
    shop.order_placed()
    [push] = shop.push.pushes_to(browser)
    assert push.headers["urgency"] == "high"


# --- gone subscriptions --------------------------------------------------------------------------


def test_a_gone_subscription_is_removed_and_the_others_still_get_it(shop: Shop) -> None:
    kept = shop.browser()
    shop.clock.advance(seconds=1)  # devices are tried in the order they were registered
    expired = shop.browser()
    shop.push.expire(expired)
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.SENT
    assert message.subject == "push · 1 of 2 devices"
    assert message.response_body == (
        "device 1: HTTP 201 Created\n"
        'device 2: HTTP 410 Gone: {"errno": 106, "message": "subscription expired"} '
        "(subscription removed)"
    )
    assert shop.endpoints() == {kept.endpoint}
    # the next message goes to the remaining browser only
    shop.order_placed(number="1002")
    assert len(shop.push.pushes_to(kept)) == 2
    assert len(shop.push.pushes_to(expired)) == 1
    assert shop.messages()[1].subject == "push · 1 of 1 device"


def test_when_every_subscription_is_gone_the_message_fails_and_they_are_forgotten(
    shop: Shop,
) -> None:
    first, second = shop.browser(), shop.browser()
    shop.push.expire(first)
    shop.push.script(second, Answer(404, b"not found"))
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert message.error == "every push subscription is gone (2 removed)"
    assert message.subject == "push · 0 of 2 devices"
    assert shop.subscriptions() == []
    # and later messages are skipped: nobody to push to
    shop.order_placed(number="1002")
    later = shop.messages()[1]
    assert (later.status, later.error) == (MessageStatus.SKIPPED, "no push subscription")


# --- retries and refusals ------------------------------------------------------------------------


def test_a_503_is_retried_with_backoff_then_delivered_once(shop: Shop) -> None:
    browser = shop.browser()
    shop.push.script(browser, Answer(503, b"busy"), Answer(201))
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert (
        message.error
        == "no push service accepted the message yet: device 1: HTTP 503 Service Unavailable: busy"
    )
    assert message.response_status == 503
    # the sweep retries after the back-off (1 minute)
    shop.later(seconds=61)
    message = shop.message()
    assert (message.status, message.attempts, message.error) == (MessageStatus.SENT, 2, None)
    assert message.response_status == 201
    assert [p.status for p in shop.push.pushes_to(browser)] == [503, 201]
    # both attempts carried the same topic and tag: a push service or the browser collapses them
    assert {p.headers["topic"] for p in shop.push.pushes_to(browser)} == {message.id.hex}
    assert shop.subscriptions()[0].endpoint == browser.endpoint


def test_one_device_accepting_is_enough_for_sent(shop: Shop) -> None:
    busy, ok = shop.browser(), shop.browser()
    shop.push.script(busy, Answer(500, b"oops"))
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.SENT
    assert message.subject == "push · 1 of 2 devices"
    assert len(shop.push.pushes_to(ok)) == 1
    # never resent (it would repeat the notification on the device that showed it)
    shop.later(minutes=10)
    assert len(shop.push.pushes) == 2
    assert shop.endpoints() == {busy.endpoint, ok.endpoint}


def test_a_refusal_fails_the_message_and_keeps_the_subscription(shop: Shop) -> None:
    browser = shop.browser()
    shop.push.script(browser, Answer(400, b"bad request"))
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert message.error == "the push services refused: device 1: HTTP 400 Bad Request: bad request"
    assert shop.endpoints() == {browser.endpoint}


def test_subscriptions_made_with_old_keys_are_dropped_when_keys_are_regenerated(
    shop: Shop,
) -> None:
    shop.browser()
    shop.configure_push()  # new keys: the old subscriptions cannot work any more
    assert shop.subscriptions() == []
    shop.launch(push_step())
    shop.order_placed()
    assert shop.message().error == "no push subscription"
    assert shop.push.pushes == []


def test_loopback_is_refused_without_the_allow_list(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    clock: Clock,
    tmp_path: Path,
    use_push_service: PushService,
) -> None:
    shop = make_shop(database_url, make_runtime, clock, tmp_path, use_push_service, allowed=[])
    shop.configure_push()
    shop.browser()
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert "127.0.0.1, a loopback address" in (message.error or "")
    assert use_push_service.pushes == []
    assert use_push_service.refusals == []


# --- not sent ------------------------------------------------------------------------------------


def test_without_a_subscription_the_message_is_skipped(shop: Shop) -> None:
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert (message.status, message.error) == (MessageStatus.SKIPPED, "no push subscription")
    assert shop.push.pushes == []


def test_without_keys_the_message_is_skipped(shop: Shop) -> None:
    shop.browser()
    with shop.runtime.sessions() as session, session.begin():
        store = session.get(Store, shop.store_id)
        assert store is not None
        store.channel_settings = {"sms": {"kept": True}}
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert (message.status, message.error) == (
        MessageStatus.SKIPPED,
        "no push keys configured for this store",
    )
    assert shop.push.pushes == []


def test_keys_that_no_longer_decrypt_fail_the_message(shop: Shop) -> None:
    shop.browser()
    with shop.runtime.sessions() as session, session.begin():
        store = session.get(Store, shop.store_id)
        assert store is not None
        stored = stored_push_settings(store.channel_settings)
        assert stored is not None
        other = SecretBox("another RELANCE_SECRET_KEY")
        store.channel_settings = {
            "push": StoredPushSettings(
                vapid_public_key=stored.vapid_public_key,
                vapid_private_key_encrypted=other.encrypt("x" * 43),
                subject=stored.subject,
            ).model_dump()
        }
    shop.launch(push_step())
    shop.order_placed()
    message = shop.message()
    assert message.status == MessageStatus.FAILED
    assert message.error == "the store's VAPID private key cannot be decrypted"
    assert shop.push.pushes == []


def test_a_contact_who_unsubscribed_from_push_meanwhile_is_skipped(shop: Shop) -> None:
    shop.browser()
    shop.launch(push_step())
    # the step ran while the contact could be reached; its send was lost on the way
    lost: list[UUID] = []
    shop.dispatcher.send_message = lost.append  # type: ignore[method-assign, assignment]
    shop.order_placed()
    assert len(lost) == 1
    with shop.runtime.sessions() as session, session.begin():
        for contact in session.scalars(select(Contact)):
            set_consent(contact, "push", "unsubscribed", "preference centre", shop.clock())
    # when the sweep finds the message again
    del shop.dispatcher.send_message
    shop.later(minutes=2)  # past the dispatch's lease
    message = shop.message()
    assert (message.status, message.error) == (MessageStatus.SKIPPED, "unsubscribed from push")
    assert shop.push.pushes == []


def test_an_empty_title_skips_and_a_bad_url_or_oversized_payload_fails(shop: Shop) -> None:
    shop.browser()
    shop.launch(push_step(title={"en": "{{ contact.custom_fields.nothing }}"}))
    shop.launch(push_step(url="javascript:alert(1)"))
    shop.launch(push_step(body={"en": "é" * 2500}))
    shop.order_placed()
    outcomes = sorted((m.status, m.error) for m in shop.messages())
    assert outcomes == sorted(
        [
            (MessageStatus.SKIPPED, "the push title is empty"),
            (
                MessageStatus.FAILED,
                "the push URL must be an absolute http(s) URL or a path (/…)",
            ),
            (
                MessageStatus.FAILED,
                "the push payload is 5125 bytes; push services take at most 3993",
            ),
        ]
    )
    assert shop.push.pushes == []


def test_a_relative_url_is_kept_for_the_service_worker_to_resolve(shop: Shop) -> None:
    browser = shop.browser()
    shop.launch(push_step(url="/orders/{{ order.number }}?utm_source=push"))
    shop.order_placed()
    [push] = shop.push.pushes_to(browser)
    assert push.message["url"] == "/orders/1001?utm_source=push"


def test_the_subscription_moves_with_its_endpoint(shop: Shop) -> None:
    # the same browser registered by another customer (a shared computer) now belongs to them
    browser = shop.browser("ada@example.com")
    contact_b = shop.contact("bob@example.com")
    with shop.runtime.sessions() as session, session.begin():
        save_subscription(
            session,
            shop.store_id,
            contact_b,
            PushTarget(browser.endpoint, browser.p256dh, browser.auth),
            "Chrome",
            shop.clock(),
        )
    [row] = shop.subscriptions()
    assert (row.contact_id, row.user_agent) == (contact_b, "Chrome")
    shop.launch(push_step())
    shop.order_placed("ada@example.com")
    assert shop.message().error == "no push subscription"
    shop.order_placed("bob@example.com")
    assert len(shop.push.pushes_to(browser)) == 1


def test_dates_are_stored_in_utc(shop: Shop) -> None:
    shop.clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    shop.browser()
    shop.launch(push_step())
    shop.order_placed()
    [row] = shop.subscriptions()
    assert row.last_success_at == shop.clock()
    assert row.created_at == shop.clock()


def test_a_contacts_subscriptions_can_be_forgotten_for_erasure(shop: Shop) -> None:
    shop.browser("ada@example.com")
    shop.browser("ada@example.com")
    bob = shop.browser("bob@example.com")
    with shop.runtime.sessions() as session, session.begin():
        ada = session.scalars(select(Contact.id).where(Contact.email == "ada@example.com")).one()
        assert delete_contact_subscriptions(session, shop.store_id, ada) == 2
    assert shop.endpoints() == {bob.endpoint}
