"""``POST /api/webhooks/twilio/status/{store_id}``: Twilio's signed status callbacks, over real
HTTP on SQLite and PostgreSQL. SMS are sent for real to the fake Twilio first, so the callbacks
name messages exactly as Twilio would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from relance.automation.contacts import ContactUpdate
from relance.automation.definitions import CampaignDefinition
from relance.automation.events import DomainEvent, EventType
from relance.channels.twilio import StoredSmsSettings
from relance.handlers import twilio as twilio_handlers
from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.models import (
    Campaign,
    CampaignStatus,
    CampaignVersion,
    Message,
    MessageStatus,
    Store,
    StoreKind,
    VersionStatus,
)
from relance.store.repositories.stores import save_installation
from relance.tasks.intake import accept_event
from tests.fixtures.http import serve
from tests.fixtures.runtime import Clock, InlineDispatcher
from tests.fixtures.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

PUBLIC_URL = "https://relance.example.com"
OTHER_SID = "AC" + "ab" * 16
OTHER_TOKEN = "cd" * 16


@dataclass
class World:
    runtime: Runtime
    clock: Clock
    twilio: FakeTwilio
    app: httpx.Client

    def store(self, *, account: str = ACCOUNT_SID, token: str = AUTH_TOKEN) -> UUID:
        with self.runtime.sessions() as session, session.begin():
            store = save_installation(
                session,
                kind=StoreKind.DEMO,
                api_url=f"http://shop-{uuid4().hex[:8]}.test/graphql/",
                app_id="test",
                auth_token=None,
                jwks=None,
                secrets=self.runtime.secrets,
                now=self.clock(),
                name="Shop",
            )
            store.consent_mode = "opt_out"
            store.channel_settings = {
                "sms": StoredSmsSettings(
                    account_sid=account,
                    auth_token_encrypted=self.runtime.secrets.encrypt(token),
                    from_number=FROM_NUMBER,
                    quiet_hours_start=None,
                    quiet_hours_end=None,
                    api_base_url=self.twilio.base_url,
                ).model_dump()
            }
            return store.id

    def send_sms(self, store_id: UUID) -> str:
        """Publish a one-SMS campaign in the store, sign a contact up: Twilio's SID."""
        definition = CampaignDefinition.model_validate(
            {
                "trigger": {"type": "event", "events": ["customer.signed_up"]},
                "entry_step": "sms",
                "steps": [{"type": "send_sms", "id": "sms", "text": {"en": "Hi"}}],
            }
        )
        with self.runtime.sessions() as session, session.begin():
            campaign = Campaign(store_id=store_id, name="sms", status=CampaignStatus.ACTIVE)
            session.add(campaign)
            session.flush()
            session.add(
                CampaignVersion(
                    campaign_id=campaign.id,
                    store_id=store_id,
                    number=1,
                    status=VersionStatus.PUBLISHED,
                    definition=definition.model_dump(mode="json"),
                    published_at=self.clock(),
                )
            )
        before = len(self.twilio.messages)
        accept_event(
            self.runtime,
            store_id,
            DomainEvent(
                type=EventType.CUSTOMER_SIGNED_UP,
                idempotency_key=uuid4().hex,
                occurred_at=self.clock(),
                contact=ContactUpdate(email="ada@example.com", phone="+33612345678"),
            ),
        )
        assert len(self.twilio.messages) == before + 1
        return self.twilio.messages[-1].sid

    def message(self, sid: str) -> Message:
        with self.runtime.sessions() as session:
            return session.scalars(select(Message).where(Message.provider_message_id == sid)).one()

    def post(
        self,
        store_id: UUID | str,
        params: dict[str, str],
        *,
        token: str = AUTH_TOKEN,
        signed_url: str | None = None,
        signature: str | None = None,
        query: str = "",
    ) -> httpx.Response:
        path = f"/api/webhooks/twilio/status/{store_id}" + (f"?{query}" if query else "")
        url = signed_url or PUBLIC_URL + path
        headers = {"X-Twilio-Signature": signature or FakeTwilio.sign(url, params, token)}
        return self.app.post(path, data=params, headers=headers)


@pytest.fixture
def world(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    clock: Clock,
    twilio: FakeTwilio,
    tmp_path: Any,
) -> Iterator[World]:
    dispatcher = InlineDispatcher()
    settings = Settings(database_url=database_url, data_dir=tmp_path, public_url=PUBLIC_URL)
    runtime = make_runtime(database_url, dispatcher=dispatcher, settings=settings)
    dispatcher.runtime = runtime
    app = Starlette(routes=twilio_handlers.routes())
    app.state.runtime = runtime
    with serve(app) as client:
        twilio.routes[PUBLIC_URL] = str(client.base_url).rstrip("/")
        yield World(runtime, clock, twilio, client)


def test_a_signed_report_updates_the_message(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    callback = world.twilio.message(sid).status_callback
    assert callback == f"{PUBLIC_URL}/api/webhooks/twilio/status/{store_id}"

    world.clock.advance(seconds=3)
    response = world.twilio.report(sid, "delivered")
    assert (response.status_code, response.text) == (200, "")
    message = world.message(sid)
    assert (message.delivery_status, message.delivered_at) == ("delivered", world.clock())


@pytest.mark.parametrize(
    "tamper",
    [
        {"token": "0" * 32},  # signed with another key
        {"signature": "bm90IGEgc2lnbmF0dXJl"},
        {"signed_url": "https://relance.example.com/api/webhooks/twilio/status/other"},
        {"signed_url": "http://relance.example.com/api/webhooks/twilio/status/{store}"},
    ],
)
def test_an_unsigned_or_forged_report_is_refused(world: World, tamper: dict[str, str]) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    if "signed_url" in tamper:
        tamper = {"signed_url": tamper["signed_url"].format(store=store_id)}
    params = world.twilio.callback_params(sid, "delivered")
    assert world.post(store_id, params, **tamper).status_code == 403
    assert world.message(sid).delivery_status is None


def test_a_report_without_signature_is_refused(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    path = f"/api/webhooks/twilio/status/{store_id}"
    response = world.app.post(path, data=world.twilio.callback_params(sid, "delivered"))
    assert response.status_code == 403
    assert world.message(sid).delivery_status is None


def test_the_signature_covers_every_parameter(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    params = world.twilio.callback_params(sid, "sent")
    signature = FakeTwilio.sign(
        f"{PUBLIC_URL}/api/webhooks/twilio/status/{store_id}", params, AUTH_TOKEN
    )
    forged = {**params, "MessageStatus": "delivered", "SmsStatus": "delivered"}
    assert world.post(store_id, forged, signature=signature).status_code == 403


def test_a_url_signed_with_its_default_port_is_accepted(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    params = world.twilio.callback_params(sid, "sent")
    url = f"https://relance.example.com:443/api/webhooks/twilio/status/{store_id}"
    assert world.post(store_id, params, signed_url=url).status_code == 200
    assert world.message(sid).delivery_status == "sent"


def test_a_query_string_is_part_of_the_signed_url(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    params = world.twilio.callback_params(sid, "sent")
    assert world.post(store_id, params, query="attempt=2").status_code == 200
    url = f"{PUBLIC_URL}/api/webhooks/twilio/status/{store_id}"  # signed without the query
    assert world.post(store_id, params, query="attempt=3", signed_url=url).status_code == 403


def test_unknown_stores_and_stores_without_sms_are_refused(world: World) -> None:
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    assert world.post(uuid4(), params).status_code == 404
    assert world.post("not-a-uuid", params).status_code == 404
    store_id = world.store()
    with world.runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id)
        assert store is not None
        store.channel_settings = {}
    assert world.post(store_id, params).status_code == 403


def test_an_unknown_message_is_acknowledged_and_ignored(world: World) -> None:
    store_id = world.store()
    params = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": "SM" + "1" * 32,
        "MessageStatus": "delivered",
    }
    assert world.post(store_id, params).status_code == 200


def test_reports_never_move_a_message_backwards(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    for status in ("queued", "sent", "sending", "delivered", "sent", "failed", "undelivered"):
        response = world.post(store_id, world.twilio.callback_params(sid, status, 30008))
        assert response.status_code == 200
    message = world.message(sid)
    assert (message.status, message.delivery_status, message.error) == (
        MessageStatus.SENT,
        "delivered",
        None,
    )


def test_a_failed_report_without_code_is_recorded(world: World) -> None:
    store_id = world.store()
    sid = world.send_sms(store_id)
    assert world.post(store_id, world.twilio.callback_params(sid, "failed")).status_code == 200
    message = world.message(sid)
    assert (message.delivery_status, message.error) == (
        "failed",
        "failed (Twilio gave no error code)",
    )


def test_a_store_reads_only_its_own_messages(world: World) -> None:
    """Store B's token signs a report naming store A's message: A's row is untouched."""
    store_a = world.store()
    store_b = world.store(account=OTHER_SID, token=OTHER_TOKEN)
    world.twilio.accounts[OTHER_SID] = OTHER_TOKEN
    sid_a = world.send_sms(store_a)
    params = {**world.twilio.callback_params(sid_a, "delivered"), "AccountSid": OTHER_SID}
    assert world.post(store_b, params, token=OTHER_TOKEN).status_code == 200
    assert world.message(sid_a).delivery_status is None
    # and a report for A's account posted to A's URL but from another account is ignored
    params = {**world.twilio.callback_params(sid_a, "delivered"), "AccountSid": OTHER_SID}
    assert world.post(store_a, params).status_code == 200
    assert world.message(sid_a).delivery_status is None


def test_an_oversized_body_is_refused(world: World) -> None:
    store_id = world.store()
    response = world.app.post(
        f"/api/webhooks/twilio/status/{store_id}",
        content=b"a=" + b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
