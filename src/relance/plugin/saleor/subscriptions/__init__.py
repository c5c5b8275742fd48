"""The webhook subscriptions relance declares in its manifest, one ``.graphql`` file per event.

Invariant: each file is a single ``subscription`` whose root field is ``event`` (so Saleor POSTs
the ``event`` object itself) with one ``... on <EventType>`` fragment; it validates against the
shipped schema (tests check both). Subscriptions take no variables.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

#: Saleor async event (``WebhookEventTypeAsyncEnum``) → subscription file stem in this package.
SUBSCRIBED_EVENTS: dict[str, str] = {
    "ORDER_CREATED": "order_created",
}

__all__ = ["SUBSCRIBED_EVENTS", "load_subscription", "subscription_for"]


@cache
def load_subscription(name: str) -> str:
    """The text of ``<name>.graphql`` in this package. Raises ``FileNotFoundError`` if absent."""
    return files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")


def subscription_for(event: str) -> str:
    """The subscription relance declares for the Saleor async ``event`` (``"ORDER_CREATED"``).

    Raises:
        KeyError: relance does not subscribe to ``event``.
    """
    return load_subscription(SUBSCRIBED_EVENTS[event])
