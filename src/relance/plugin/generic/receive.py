"""Receiving one generic event: find the store, prove the signature, parse, map, record.

The signature is checked before the body is parsed: nothing unauthenticated is interpreted.
Recording is idempotent (events by ``<type>:<id>``, carts by id and update time), so a retried
or replayed request records nothing new.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from relance.automation.events import CheckoutState
from relance.plugin.generic.errors import (
    InvalidEvent,
    MalformedJson,
    Problem,
    UnknownGenericStore,
)
from relance.plugin.generic.mapping import map_event, problems_of
from relance.plugin.generic.schema import GenericEvent
from relance.plugin.generic.signature import verify_signature
from relance.plugin.generic.stores import find_generic_store
from relance.runtime import Runtime
from relance.store.models import StoreStatus
from relance.tasks.checkouts import accept_checkout, accept_domain_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GenericOutcome:
    """What was recorded: the inbox event's id (if one was), whether it was a duplicate (for a
    cart: an update older than one already seen), and the cart's watch status."""

    duplicate: bool
    event_id: UUID | None = None
    checkout: str | None = None


def _secret(runtime: Runtime, key: str) -> tuple[UUID, str]:
    with runtime.sessions() as session:
        store = find_generic_store(session, key)
        if store is None or store.status != StoreStatus.ACTIVE:
            raise UnknownGenericStore(f"no active generic store {key!r}")
        encrypted = store.webhook_secret_encrypted
        store_id = store.id
    if not encrypted:
        raise UnknownGenericStore(f"the generic store {key!r} has no signing secret")
    try:
        return store_id, runtime.secrets.decrypt(encrypted)
    except ValueError as exc:
        raise UnknownGenericStore(
            f"the signing secret of {key!r} cannot be decrypted (RELANCE_SECRET_KEY changed?)"
        ) from exc


def parse_event(body: bytes) -> GenericEvent:
    """The event in ``body``.

    Raises:
        MalformedJson: not a JSON object.
        InvalidEvent: not a valid event (each problem listed).
    """
    try:
        data: Any = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise MalformedJson("the body is not JSON", [Problem("", str(exc))]) from exc
    if not isinstance(data, dict):
        raise MalformedJson("the body is not a JSON object", [Problem("", "not an object")])
    try:
        return GenericEvent.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent("the event is not valid", problems_of(exc)) from exc


def receive_generic_event(
    runtime: Runtime, *, store_key: str, signature: str | None, body: bytes
) -> GenericOutcome:
    """Handle one request end to end. Idempotent; blocking (database).

    Raises:
        UnknownGenericStore: no active generic store ``store_key`` (or it has no secret).
        SignatureRefused: missing, malformed, stale or not matching (see ``signature``).
        InvalidEvent: the body is not a valid event.
        sqlalchemy.exc.DBAPIError: the database cannot be reached (nothing recorded).
    """
    store_id, secret = _secret(runtime, store_key)
    verify_signature(signature, body, secret, runtime.clock())
    event = parse_event(body)
    mapped = map_event(event)
    if isinstance(mapped, CheckoutState):
        seen = accept_checkout(runtime, store_id, mapped)
        return GenericOutcome(
            duplicate=seen.stale,
            event_id=seen.event.event_id if seen.event else None,
            checkout=seen.status.value if seen.status else None,
        )
    accepted = accept_domain_event(runtime, store_id, mapped)
    return GenericOutcome(duplicate=accepted.duplicate, event_id=accepted.event_id)
