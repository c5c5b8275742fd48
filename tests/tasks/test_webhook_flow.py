"""call_webhook end to end: a published campaign, an event through the inbox, a real HTTP call.

The endpoint is a real local HTTP server on 127.0.0.1; the runtime's settings allow-list
``127.0.0.0/8`` as an operator would for an internal endpoint (one test runs without it and is
refused). Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from relance import __version__
from relance.automation.events import EventType, LineItem, OrderSnapshot
from relance.channels.smtp import SmtpTransport
from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.models import Message, MessageStatus
from tests.channels.test_webhooks import HookServer, Reply, start_hook_server
from tests.fixtures.campaigns import event, inline_runtime, install_demo_store
from tests.fixtures.runtime import Clock
from tests.fixtures.smtp import SmtpSink
from tests.tasks.test_campaign_flows import Shop

BODY = """{
  "event": "order.placed",
  "email": {{ contact.email | tojson }},
  "order": {{ order.number | tojson }},
  "total": {{ order.total | tojson }},
  "lines": [
  {% for line in order.lines %}
    {"sku": {{ line.sku | tojson }}, "name": {{ line.product_name | tojson }},
     "quantity": {{ line.quantity }},
     "price": {{ line.unit_price | money(line.currency) | tojson }}}
    {%- if not loop.last %},{% endif %}
  {% endfor %}
  ],
  "delivery": {{ message.id | tojson }}
}"""


def make_shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    smtp_sink: SmtpSink,
    clock: Clock,
    tmp_path: Path,
    *,
    allowed: list[str],
) -> Shop:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        public_url="http://relance.test",
        webhook_allowed_networks=allowed,
    )
    runtime = inline_runtime(
        make_runtime,
        database_url,
        settings=settings,
        email_transport=SmtpTransport(smtp_sink.url),
    )
    store_id = install_demo_store(runtime, now=clock(), name="Shop", consent_mode="opt_out")
    return Shop(runtime, clock, store_id, sink=smtp_sink)


@pytest.fixture
def shop(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    smtp_sink: SmtpSink,
    clock: Clock,
    tmp_path: Path,
) -> Shop:
    return make_shop(
        database_url, make_runtime, smtp_sink, clock, tmp_path, allowed=["127.0.0.0/8"]
    )


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server, stop = start_hook_server()
    yield server
    stop()


def webhook_campaign(url: str, **step: Any) -> dict[str, Any]:
    return {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "hook",
        "steps": [{"type": "call_webhook", "id": "hook", "url": url, **step}],
    }


def placed_order() -> OrderSnapshot:
    def line(sku: str, name: str, quantity: int, price: str) -> LineItem:
        unit = Decimal(price)
        return LineItem(
            product_name=name,
            sku=sku,
            quantity=quantity,
            unit_price=unit,
            total_price=unit * quantity,
            currency="EUR",
        )

    return OrderSnapshot(
        order_id="o-1001",
        number="1001",
        created_at=datetime(2026, 11, 23, 9, 55, tzinfo=UTC),
        currency="EUR",
        lines=(line("TEA-1", "Thé vert", 2, "12.50"), line("MUG-7", 'Mug "Relance"', 1, "9.90")),
        subtotal=Decimal("34.90"),
        total=Decimal("34.90"),
    )


def the_message(shop: Shop) -> Message:
    [message] = shop.rows(Message)
    assert isinstance(message, Message)
    return message


def test_an_order_is_forwarded_as_json_with_its_lines(shop: Shop, hooks: HookServer) -> None:
    # given a published campaign forwarding placed orders to an endpoint
    shop.launch(
        webhook_campaign(
            hooks.url("/orders/{{ order.number }}") + "?token=s3cret",
            headers={"X-Customer": "{{ contact.first_name }}", "Authorization": "Bearer k"},
            query={"email": "{{ contact.email }}"},
            body=BODY,
        )
    )
    hooks.script(Reply(201, b'{"received": true}', {"Content-Type": "application/json"}))
    # when an order is placed
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    # then the endpoint got one POST with the rendered URL, headers, parameters and JSON body
    [request] = hooks.received
    message = the_message(shop)
    assert (request.method, request.path) == ("POST", "/orders/1001")
    assert request.query == [("token", "s3cret"), ("email", "ada@example.com")]
    assert request.headers["x-customer"] == "Ada"
    assert request.headers["authorization"] == "Bearer k"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"relance/{__version__} (+webhook)"
    assert request.headers["x-relance-delivery"] == str(message.id)
    assert request.json() == {
        "event": "order.placed",
        "email": "ada@example.com",
        "order": "1001",
        "total": "34.90",
        "lines": [
            {"sku": "TEA-1", "name": "Thé vert", "quantity": 2, "price": "€12.50"},
            {"sku": "MUG-7", "name": 'Mug "Relance"', "quantity": 1, "price": "€9.90"},
        ],
        "delivery": str(message.id),
    }
    # and the message records the call and its answer, never the query string
    assert message.channel == "webhook"
    assert message.status == MessageStatus.SENT
    assert message.sent_at is not None
    assert message.to_address == f"http://127.0.0.1:{hooks.port}/orders/1001"
    assert message.subject == "POST"
    assert (message.response_status, message.response_body) == (201, '{"received": true}')
    assert message.error is None
    assert ("hook", "send", "webhook POST") in shop.trace()


def test_a_503_is_retried_with_backoff_until_it_succeeds(shop: Shop, hooks: HookServer) -> None:
    shop.launch(webhook_campaign(hooks.url(), method="PUT", body="{{ contact.email }}"))
    hooks.script(
        Reply(503, b"down for maintenance"), Reply(503, b"still down"), Reply(200, b"thanks")
    )
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    # the first answer is recorded and the message waits for its retry
    message = the_message(shop)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert (message.response_status, message.response_body) == (503, "down for maintenance")
    assert message.error == "the endpoint answered HTTP 503 Service Unavailable"
    assert message.next_attempt_at is not None
    # not before its time
    shop.later(seconds=30)
    assert len(hooks.received) == 1
    shop.later(seconds=31)  # 1 minute after the first attempt (and its lease) has passed
    message = the_message(shop)
    assert (message.status, message.attempts, message.response_status) == (
        MessageStatus.PENDING,
        2,
        503,
    )
    assert message.response_body == "still down"
    shop.later(minutes=2, seconds=1)  # the backoff doubles
    message = the_message(shop)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 3)
    assert (message.response_status, message.response_body, message.error) == (200, "thanks", None)
    # three calls, one delivery: the same id each time for the receiver to deduplicate
    assert [r.method for r in hooks.received] == ["PUT"] * 3
    assert {r.headers["x-relance-delivery"] for r in hooks.received} == {str(message.id)}
    assert {r.body for r in hooks.received} == {b"ada@example.com"}


def test_a_404_fails_for_good_with_the_answer_recorded(shop: Shop, hooks: HookServer) -> None:
    shop.launch(webhook_campaign(hooks.url("/missing")))
    hooks.script(Reply(404, b"no such hook"))
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    message = the_message(shop)
    assert message.status == MessageStatus.FAILED
    assert message.error == "the endpoint answered HTTP 404 Not Found"
    assert (message.response_status, message.response_body) == (404, "no such hook")
    shop.later(hours=3)
    assert len(hooks.received) == 1


def test_a_redirect_is_recorded_and_not_followed(shop: Shop, hooks: HookServer) -> None:
    shop.launch(webhook_campaign(hooks.url("/old")))
    hooks.script(Reply(301, b"", {"Location": "/new?key=secret"}), Reply(200))
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    message = the_message(shop)
    assert message.status == MessageStatus.FAILED
    assert message.response_status == 301
    assert message.error is not None
    assert f"to http://127.0.0.1:{hooks.port}/new" in message.error
    assert "secret" not in message.error
    assert [r.path for r in hooks.received] == ["/old"]


def test_a_binary_answer_is_recorded_as_its_size(shop: Shop, hooks: HookServer) -> None:
    shop.launch(webhook_campaign(hooks.url(), method="GET"))
    hooks.script(Reply(200, bytes(range(256)) * 4, {"Content-Type": "application/octet-stream"}))
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    message = the_message(shop)
    assert (message.status, message.response_body) == (MessageStatus.SENT, "<1024 bytes>")


def test_a_missing_value_or_a_broken_template_fails_without_a_call(
    shop: Shop, hooks: HookServer
) -> None:
    shop.launch(webhook_campaign(hooks.url(), body='{"code": {{ discount.code | tojson }}}'))
    shop.launch(webhook_campaign(hooks.url(), headers={"X-Bad": "{% if %}"}), name="broken header")
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    errors = sorted(str(m.error) for m in shop.rows(Message))
    assert [m.status for m in shop.rows(Message)] == [MessageStatus.FAILED] * 2
    assert errors[0].startswith("render: webhook body: ")
    assert "'discount' is undefined" in errors[0]
    assert errors[1].startswith("render: webhook header X-Bad: ")
    assert hooks.received == []


def test_a_timeout_after_a_post_is_recorded_unknown_and_not_resent(
    shop: Shop, hooks: HookServer
) -> None:
    shop.launch(webhook_campaign(hooks.url(), timeout_seconds=1))
    hooks.script(Reply(200, delay=2.5))
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    message = the_message(shop)
    assert message.status == MessageStatus.UNKNOWN
    assert "may have processed it" in str(message.error)
    shop.later(hours=3)
    assert len(hooks.received) == 1


def test_without_the_allow_list_a_loopback_endpoint_is_refused(
    database_url: str,
    make_runtime: Callable[..., Runtime],
    smtp_sink: SmtpSink,
    clock: Clock,
    tmp_path: Path,
    hooks: HookServer,
) -> None:
    shop = make_shop(database_url, make_runtime, smtp_sink, clock, tmp_path, allowed=[])
    shop.launch(webhook_campaign(f"http://localhost:{hooks.port}/hook?token=s3cret"))
    shop.send(event(EventType.ORDER_PLACED, order=placed_order()))
    message = the_message(shop)
    assert message.status == MessageStatus.FAILED
    assert str(message.error).startswith("refused: localhost is ")
    assert message.to_address == f"http://localhost:{hooks.port}/hook"
    assert message.response_status is None
    assert hooks.received == []
