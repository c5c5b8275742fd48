"""The webhook subscriptions relance declares in its manifest, one ``.graphql`` file per event.

Invariant: each event file is a single ``subscription`` whose root field is ``event`` (so Saleor
POSTs the ``event`` object itself) with one ``... on <EventType>`` fragment. Selections shared
by several events live in ``fragment_<name>.graphql`` files (one named fragment each); the
declared query is the event file followed by the fragments it spreads, so Saleor receives one
self-contained document (Saleor's own tests subscribe with named fragments too). Every declared
query validates against the shipped schema (tests check it). Subscriptions take no variables.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

#: Saleor async event (``WebhookEventTypeAsyncEnum``) → subscription file stem in this package.
SUBSCRIBED_EVENTS: dict[str, str] = {
    "CHECKOUT_CREATED": "checkout_created",
    "CHECKOUT_UPDATED": "checkout_updated",
    "ORDER_CREATED": "order_created",
    "ORDER_FULLY_PAID": "order_fully_paid",
    "ORDER_CANCELLED": "order_cancelled",
    "ORDER_FULLY_REFUNDED": "order_fully_refunded",
    "CUSTOMER_CREATED": "customer_created",
    "CUSTOMER_UPDATED": "customer_updated",
    "ACCOUNT_CONFIRMED": "account_confirmed",
    "CUSTOMER_DELETED": "customer_deleted",
    "ACCOUNT_DELETED": "account_deleted",
    "APP_DELETED": "app_deleted",
}

#: Named fragment → the file defining it.
FRAGMENTS: dict[str, str] = {
    "RelanceCheckout": "fragment_checkout",
    "RelanceOrder": "fragment_order",
    "RelanceUser": "fragment_user",
}

_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)")

__all__ = ["FRAGMENTS", "SUBSCRIBED_EVENTS", "load_subscription", "subscription_for"]


@cache
def load_subscription(name: str) -> str:
    """The text of ``<name>.graphql`` in this package. Raises ``FileNotFoundError`` if absent."""
    return files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


def _spread_fragments(text: str) -> list[str]:
    """Names of the known fragments ``text`` spreads (``...RelanceOrder``), in order, once."""
    found: list[str] = []
    for name in _SPREAD.findall(text):
        if name in FRAGMENTS and name not in found:
            found.append(name)
    return found


@cache
def subscription_for(event: str) -> str:
    """The subscription relance declares for the Saleor async ``event`` (``"ORDER_CREATED"``):
    the event's file followed by every fragment it spreads (transitively).

    Raises:
        KeyError: relance does not subscribe to ``event``.
    """
    parts = [load_subscription(SUBSCRIBED_EVENTS[event])]
    pending = _spread_fragments(parts[0])
    included: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in included:
            continue
        included.add(name)
        text = load_subscription(FRAGMENTS[name])
        parts.append(text)
        pending += [found for found in _spread_fragments(text) if found not in included]
    return "\n".join(parts)
