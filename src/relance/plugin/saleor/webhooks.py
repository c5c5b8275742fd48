"""Receiving one Saleor webhook delivery: find the store, prove the signature, map, record.

The order of checks is app-sdk's (``saleor-webhook-validator.ts``), with the signature checked
before the body is parsed: nothing from an unauthenticated body is ever interpreted.

Key rotation. Saleor publishes only its current key. When a signature does not verify with the
store's stored JWKS, the JWKS is fetched again once and verification retried (app-sdk's strategy).
This covers a new ``kid`` (``UnknownKeyId``) and a key replaced under the same ``kid`` (Saleor
versions whose ``kid`` is the constant ``"1"``). Refetches are limited to one per store per
:data:`JWKS_REFRESH_INTERVAL` per process, so a flood of forged deliveries cannot make relance
hammer Saleor; the cost is that a real rotation within that interval after another failure is
only seen once it has passed.

Invariant: a delivery is recorded only if its signature verified and its body mapped; recording
is idempotent (:func:`relance.tasks.intake.accept_event`), so the same delivery twice records once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from relance.plugin.saleor.errors import (
    JwksUnavailable,
    MalformedBody,
    MalformedSignature,
    SignatureError,
    UnknownStore,
    VerificationDeferred,
)
from relance.plugin.saleor.mapping import MAPPERS
from relance.plugin.saleor.signature import verify_webhook_signature
from relance.runtime import Runtime
from relance.store.models import Store, StoreKind, StoreStatus
from relance.store.repositories.stores import get_store_by_api_url, update_jwks
from relance.tasks.intake import accept_event

logger = logging.getLogger(__name__)

#: At most one JWKS refetch per store per this long (per process).
JWKS_REFRESH_INTERVAL = timedelta(seconds=60)

#: Fetches the JWKS of the Saleor at an API URL; raises ``JwksUnavailable``.
KeyFetcher = Callable[[str], dict[str, Any]]


class JwksRefreshLimiter:
    """Grants a JWKS refetch for a store at most once per ``interval``. Thread-safe.

    Times come from the caller (``runtime.clock``), so tests control them.
    """

    def __init__(self, interval: timedelta = JWKS_REFRESH_INTERVAL) -> None:
        self.interval = interval
        self._last: dict[UUID, datetime] = {}
        self._lock = threading.Lock()

    def allow(self, store_id: UUID, now: datetime) -> bool:
        """True (and remember ``now``) unless a refetch was granted less than ``interval`` ago."""
        with self._lock:
            last = self._last.get(store_id)
            if last is not None and now - last < self.interval:
                return False
            self._last[store_id] = now
            return True


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What became of a verified delivery. ``reason`` is set when it was not recorded."""

    accepted: bool
    duplicate: bool = False
    event_id: UUID | None = None
    reason: str | None = None


def find_store(runtime: Runtime, api_url: str) -> Store:
    """The ACTIVE Saleor store installed from ``api_url``.

    Raises:
        UnknownStore: none, or it was uninstalled or disconnected.
        sqlalchemy.exc.DBAPIError: the database cannot be reached.
    """
    with runtime.sessions() as session:
        store = get_store_by_api_url(session, api_url)
    if (
        store is None
        or not StoreKind(store.kind).receives_saleor_webhooks
        or store.status != StoreStatus.ACTIVE
    ):
        raise UnknownStore(f"no active Saleor store is installed for {api_url}")
    return store


def _refresh_keys(runtime: Runtime, store: Store, fetch_keys: KeyFetcher) -> dict[str, Any] | None:
    try:
        fresh = fetch_keys(store.api_url)
    except JwksUnavailable as exc:
        logger.warning("saleor store %s: JWKS refetch failed: %s", store.id, exc)
        return None
    if fresh != store.jwks:
        with runtime.sessions() as session, session.begin():
            current = session.get(Store, store.id)
            if current is not None:
                update_jwks(session, current, fresh, runtime.clock())
        logger.info("saleor store %s: JWKS changed, stored the new keys", store.id)
    return fresh


def verify_delivery(
    runtime: Runtime,
    store: Store,
    signature: str,
    body: bytes,
    *,
    fetch_keys: KeyFetcher,
    limiter: JwksRefreshLimiter,
) -> None:
    """Verify ``signature`` over ``body`` with the store's keys, refetching them once if needed.

    Raises:
        SignatureError: the delivery is not proven to come from the store's Saleor (with keys
            fetched afresh, or a malformed signature).
        VerificationDeferred: it did not verify with the stored keys and a refetch is not
            allowed yet (rate limit): it may be genuine, so the caller asks for a retry.
        sqlalchemy.exc.DBAPIError: storing refreshed keys failed.
    """
    try:
        verify_webhook_signature(signature, body, store.jwks or {})
    except MalformedSignature:
        raise
    except SignatureError as error:
        if not limiter.allow(store.id, runtime.clock()):
            raise VerificationDeferred(
                "signature not verified with the stored keys; refetching them is rate-limited"
            ) from error
        fresh = _refresh_keys(runtime, store, fetch_keys)
        if fresh is None:
            raise
        verify_webhook_signature(signature, body, fresh)


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body``, numbers with a fraction as exact ``Decimal``.

    Raises:
        MalformedBody: not UTF-8 JSON, or not an object.
    """
    try:
        data = json.loads(body, parse_float=Decimal)
    except ValueError as exc:
        raise MalformedBody(f"the body is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MalformedBody("the body is not a JSON object")
    return data


def receive_webhook(
    runtime: Runtime,
    *,
    api_url: str,
    event_name: str,
    signature: str,
    body: bytes,
    fetch_keys: KeyFetcher,
    limiter: JwksRefreshLimiter,
) -> WebhookOutcome:
    """Handle one delivery end to end. Idempotent; blocking (database and maybe HTTP).

    Parameters:
        api_url(str): the ``Saleor-Api-Url`` header: which store sent it.
        event_name(str): the ``Saleor-Event`` header, e.g. ``order_created`` (any case).
        signature(str): the ``Saleor-Signature`` header.
        body(bytes): the raw body, exactly as received.
        fetch_keys(KeyFetcher): how to fetch a Saleor's JWKS when the stored one fails.
        limiter(JwksRefreshLimiter): shared by every delivery of the process.

    Raises:
        UnknownStore: no active store for ``api_url``.
        SignatureError: the signature does not verify.
        VerificationDeferred: not verifiable until the keys may be refetched.
        PayloadError: the body is not JSON (``MalformedBody``) or does not fit the subscription.
        sqlalchemy.exc.DBAPIError: the database cannot be reached (nothing recorded).

    Returns:
        ``accepted=False, reason="ignored"`` for events relance does not handle; otherwise the
        recorded event's id and whether it had been recorded before.
    """
    store = find_store(runtime, api_url)
    verify_delivery(runtime, store, signature, body, fetch_keys=fetch_keys, limiter=limiter)
    mapper = MAPPERS.get(event_name.strip().lower())
    if mapper is None:
        logger.info("saleor store %s: ignored event %s", store.id, event_name)
        return WebhookOutcome(accepted=False, reason="ignored")
    data = parse_body(body)
    if data.get("errors"):
        logger.warning("saleor store %s: %s body carries resolver errors", store.id, event_name)
    event = mapper(data)
    accepted = accept_event(runtime, store.id, event)
    return WebhookOutcome(accepted=True, duplicate=accepted.duplicate, event_id=accepted.event_id)
