"""Fixtures for the templates tests: the sample German order as an OrderSnapshot's JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from relance.automation.events import LineItem, OrderSnapshot
from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer

ORDER_CREATED = Path("/work/shared/saleor/payloads/order_created.json")


def _gross(money: dict[str, Any]) -> Decimal:
    return Decimal(str(money["gross"]["amount"]))


def snapshot_from_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``order`` template context for a Saleor ORDER_CREATED body (translated names)."""
    order = payload["order"]
    currency = order["channel"]["currencyCode"]
    lines = tuple(
        LineItem(
            product_name=line["translatedProductName"] or line["productName"],
            variant_name=line["translatedVariantName"] or line["variantName"],
            sku=line["productSku"],
            quantity=line["quantity"],
            unit_price=_gross(line["unitPrice"]),
            total_price=_gross(line["totalPrice"]),
            currency=currency,
            image_url=(line["thumbnail"] or {}).get("url"),
            image_alt=(line["thumbnail"] or {}).get("alt"),
        )
        for line in order["lines"]
    )
    snapshot = OrderSnapshot(
        order_id=order["id"],
        number=order["number"],
        created_at=order["created"],
        currency=currency,
        lines=lines,
        subtotal=_gross(order["subtotal"]),
        shipping=_gross(order["shippingPrice"]),
        total=_gross(order["total"]),
        voucher_code=order["voucherCode"],
    )
    return snapshot.model_dump(mode="json")


@pytest.fixture(scope="session")
def german_order() -> dict[str, Any]:
    return snapshot_from_payload(json.loads(ORDER_CREATED.read_text()))


@pytest.fixture
def context(german_order: dict[str, Any]) -> dict[str, Any]:
    """What the send task passes for Jonas's order at Maison Example."""
    return {
        "contact": {
            "email": "jonas.becker@example.de",
            "first_name": "Jonas",
            "last_name": "Becker",
            "language": "de",
        },
        "order": german_order,
        "store": {"name": "Maison Example"},
    }


@pytest.fixture
def renderer() -> EmailRenderer:
    return EmailRenderer(DesignLibrary())
