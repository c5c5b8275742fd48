"""Webhook bodies exactly as Saleor would send them for relance's subscriptions.

:func:`event_data` gives the data behind an event (the research samples of ``payloads/``, with
the few non-null fields they do not select added); tests change it (no email, another language,
a later ``updatedAt``…), then :func:`body_for` executes relance's subscription for that event on
the REAL schema with that data and returns the JSON body. A body that Saleor could not produce
(a missing non-null field, a wrong enum) fails the test that builds it.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from graphql import execute_sync, parse

from relance.plugin.saleor.payloads import TRANSLATION_ALIAS
from relance.plugin.saleor.schema import saleor_schema
from relance.plugin.saleor.subscriptions import subscription_for
from tests.fixtures.saleor import sample_payload

#: Saleor event → the ``Event`` implementation its subscription's fragment is on.
TYPENAMES = {
    "CHECKOUT_CREATED": "CheckoutCreated",
    "CHECKOUT_UPDATED": "CheckoutUpdated",
    "ORDER_CREATED": "OrderCreated",
    "ORDER_FULLY_PAID": "OrderFullyPaid",
    "ORDER_CANCELLED": "OrderCancelled",
    "ORDER_FULLY_REFUNDED": "OrderFullyRefunded",
    "CUSTOMER_CREATED": "CustomerCreated",
    "CUSTOMER_UPDATED": "CustomerUpdated",
    "ACCOUNT_CONFIRMED": "AccountConfirmed",
    "CUSTOMER_DELETED": "CustomerDeleted",
    "ACCOUNT_DELETED": "AccountDeleted",
    "APP_DELETED": "AppDeleted",
}


def _resolve(source: Any, info: Any, **_: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.path.key, source.get(info.field_name))
    return getattr(source, info.field_name, None)


def _translations(node: dict[str, Any]) -> None:
    """The research's ``translationFr`` aliases → relance's ``translation_FR`` ones."""
    for key in [k for k in node if k.startswith("translation") and k[11:12].isupper()]:
        value = node.pop(key)
        node[TRANSLATION_ALIAS + key[11:].upper()] = value


def _checkout() -> dict[str, Any]:
    data = sample_payload("checkout_updated")
    checkout = data["checkout"]
    checkout["billingAddress"]["phone"] = "+33 6 12 34 56 78"
    for line in checkout["lines"]:
        _translations(line["variant"])
        _translations(line["variant"]["product"])
    return {"issuedAt": data["issuedAt"], "version": data["version"], "checkout": checkout}


def _order() -> dict[str, Any]:
    data = sample_payload("order_created")
    data["order"]["user"]["languageCode"] = "DE"
    data["order"]["billingAddress"]["phone"] = "+4989123456"
    return data


def _order_fully_paid() -> dict[str, Any]:
    """The research's fully-paid order (EN_GB, GBP), with what the shared order fragment adds."""
    paid = sample_payload("order_fully_paid")
    order = paid["order"]
    base = _order()["order"]

    def money(amount: float) -> dict[str, Any]:
        return {"gross": {"amount": amount, "currency": "GBP"}}

    lines = []
    for line in order["lines"]:
        lines.append(
            {
                **line,
                "id": "T3JkZXJMaW5lOjAwMDAwMDAxLWFhYWEtNGJiYi04Y2NjLWRkZGRlZWVlZmZmZg==",
                "translatedVariantName": line["variantName"],
                "productSku": "OCT-BLK-S",
                "productVariantId": line["variant"]["id"],
                "totalPrice": money(line["unitPrice"]["gross"]["amount"] * line["quantity"]),
                "variant": {
                    **line["variant"],
                    "product": {
                        **line["variant"]["product"],
                        "category": {"id": "Q2F0ZWdvcnk6MTQ=", "slug": "tops"},
                    },
                },
            }
        )
    order.update(
        origin="CHECKOUT",
        channel={"id": "Q2hhbm5lbDox", **order["channel"]},
        user={**order["user"], "languageCode": "EN_GB"},
        billingAddress={**base["billingAddress"], "country": {"code": "GB"}, "phone": None},
        lines=lines,
        subtotal=money(75.0),
        shippingPrice=money(3.95),
        total={
            "gross": {"amount": 78.95, "currency": "GBP"},
            "net": {"amount": 65.79, "currency": "GBP"},
            "tax": {"amount": 13.16, "currency": "GBP"},
        },
        voucherCode=None,
    )
    return paid


def _customer() -> dict[str, Any]:
    return sample_payload("customer_created")


def _customer_updated() -> dict[str, Any]:
    data = _customer()
    data["issuedAt"] = "2026-08-21T08:02:11.100200+00:00"
    data["user"].update(
        lastName="Schmidt-Weber",
        updatedAt="2026-08-21T08:02:10.998877+00:00",
        defaultBillingAddress={"country": {"code": "AT"}, "phone": "+43 1 234 5678"},
    )
    return data


def _account_confirmed() -> dict[str, Any]:
    data = sample_payload("account_confirmed")
    user = data["user"]
    user.update(isActive=True, updatedAt=user["dateJoined"])
    return data


def _deleted() -> dict[str, Any]:
    user = _customer()["user"]
    return {
        "issuedAt": "2026-09-02T12:00:00.000001+00:00",
        "version": "3.24.0-a.0",
        "user": {"id": user["id"], "email": user["email"]},
    }


def _app_deleted() -> dict[str, Any]:
    return {
        "issuedAt": "2026-09-03T12:00:00.000001+00:00",
        "version": "3.24.0-a.0",
        "app": {"id": "QXBwOjQy", "identifier": "app.relance"},
    }


_DATA = {
    "CHECKOUT_CREATED": _checkout,
    "CHECKOUT_UPDATED": _checkout,
    "ORDER_CREATED": _order,
    "ORDER_FULLY_PAID": _order_fully_paid,
    "ORDER_CANCELLED": _order,
    "ORDER_FULLY_REFUNDED": _order,
    "CUSTOMER_CREATED": _customer,
    "CUSTOMER_UPDATED": _customer_updated,
    "ACCOUNT_CONFIRMED": _account_confirmed,
    "CUSTOMER_DELETED": _deleted,
    "ACCOUNT_DELETED": _deleted,
    "APP_DELETED": _app_deleted,
}


@cache
def _base(event: str) -> str:
    return json.dumps(_DATA[event]())


def event_data(event: str) -> dict[str, Any]:
    """A fresh copy of the data behind ``event`` (``"CHECKOUT_UPDATED"``), to change at will."""
    data: dict[str, Any] = json.loads(_base(event))
    return data


def execute(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """What relance's subscription for ``event`` selects from ``data`` (the body's object).

    Raises:
        AssertionError: Saleor could not produce it (errors from the real schema).
    """
    source = copy.deepcopy(data)
    source["__typename"] = TYPENAMES[event]
    result = execute_sync(
        saleor_schema(),
        parse(subscription_for(event)),
        root_value={"event": source},
        field_resolver=_resolve,
    )
    assert result.errors is None, [error.formatted for error in result.errors]
    assert result.data is not None
    selected: dict[str, Any] = result.data["event"]
    return selected


def body_for(event: str, data: dict[str, Any] | None = None) -> bytes:
    """The raw body Saleor POSTs for ``event`` with ``data`` (default: :func:`event_data`)."""
    return json.dumps(execute(event, data if data is not None else event_data(event))).encode()
