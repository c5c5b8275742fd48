"""A sample ORDER_CREATED webhook, signed like Saleor signs it, for the demo store."""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import httpx

from relance.demo.signing import WebhookSigner


def sample_order(*, fresh: bool = True, email: str | None = None) -> dict[str, Any]:
    """The sample German order (from Saleor's payload docs). ``fresh`` gives it a new id and number,
    so each call is a new order; without it, the same order is sent again (a duplicate delivery)."""
    body: dict[str, Any] = json.loads(
        resources.files("relance.demo").joinpath("sample_order_created.json").read_text("utf-8")
    )
    order = body["order"]
    if fresh:
        now = datetime.now(UTC).isoformat()
        order["id"] = base64.b64encode(f"Order:{uuid.uuid4()}".encode()).decode()
        order["number"] = str(random.randint(10_000, 99_999))  # noqa: S311 (not a secret)
        order["created"] = now
        body["issuedAt"] = now
    if email is not None:
        order["userEmail"] = email
        if order.get("user"):
            order["user"]["email"] = email
    return body


def signed_headers(
    signer: WebhookSigner, body: bytes, *, api_url: str, event: str
) -> dict[str, str]:
    """The headers Saleor sends with an async webhook delivery."""
    domain = httpx.URL(api_url).host
    return {
        "Content-Type": "application/json",
        "Saleor-Event": event,
        "Saleor-Domain": domain,
        "Saleor-Api-Url": api_url,
        "Saleor-Signature": signer.sign(body),
    }


def post_order(
    public_url: str, signer: WebhookSigner, order: dict[str, Any], *, api_url: str
) -> httpx.Response:
    """POST ``order`` as an ORDER_CREATED delivery to relance's Saleor webhook endpoint."""
    body = json.dumps(order).encode()
    return httpx.post(
        public_url.rstrip("/") + "/api/webhooks/saleor",
        content=body,
        headers=signed_headers(signer, body, api_url=api_url, event="order_created"),
        timeout=20,
    )
