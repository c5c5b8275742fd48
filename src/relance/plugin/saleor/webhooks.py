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

Legacy HMAC. A signature of 64 hex digits is the legacy ``secretKey`` HMAC-SHA256 of the body;
it is checked against the store's ``webhook_secret_encrypted`` (refused when the store has none).

What a verified body becomes (:mod:`relance.plugin.saleor.mapping`): orders and customers are
recorded in the inbox (an ``order.placed`` also closes the checkout it came from); checkouts
update the abandoned-checkout timer (:mod:`relance.tasks.checkouts`); APP_DELETED naming this
store's app uninstalls the store at once (its token is forgotten; its data kept).

Invariant: a delivery is recorded only if its signature verified and its body mapped; recording
is idempotent (keys identify facts), so the same delivery twice records once.
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

from relance.automation.events import CheckoutState, DomainEvent
from relance.plugin.saleor.errors import (
    InvalidSignature,
    JwksUnavailable,
    MalformedBody,
    MalformedSignature,
    SignatureError,
    UnknownStore,
    VerificationDeferred,
)
from relance.plugin.saleor.manifest import APP_ID
from relance.plugin.saleor.mapping import MAPPERS, AppRemoved, NothingToRecord
from relance.plugin.saleor.signature import (
    is_legacy_signature,
    verify_legacy_signature,
    verify_webhook_signature,
)
from relance.runtime import Runtime
from relance.store.models import Store, StoreKind, StoreStatus
from relance.store.repositories.stores import get_store_by_api_url, update_jwks
from relance.tasks.checkouts import accept_checkout, accept_domain_event

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
    """What became of a verified delivery. ``reason`` is set when it was not recorded;
    ``checkout`` is the watched checkout's status after a checkout delivery (``None``: not
    watched); ``duplicate`` is also set for a checkout delivery older than one already seen."""

    accepted: bool
    duplicate: bool = False
    event_id: UUID | None = None
    reason: str | None = None
    checkout: str | None = None


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
    if is_legacy_signature(signature):
        _verify_legacy(runtime, store, signature, body)
        return
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


def _verify_legacy(runtime: Runtime, store: Store, signature: str, body: bytes) -> None:
    """A legacy HMAC signature, with the store's ``secretKey`` (if it has one)."""
    if not store.webhook_secret_encrypted:
        raise InvalidSignature("a legacy HMAC signature, but the store has no webhook secret")
    try:
        secret = runtime.secrets.decrypt(store.webhook_secret_encrypted)
    except ValueError as exc:
        raise InvalidSignature("the store's webhook secret cannot be decrypted") from exc
    verify_legacy_signature(signature, body, secret)


def uninstall_store(runtime: Runtime, store_id: UUID) -> bool:
    """Mark the store UNINSTALLED and forget its token (its data is kept until the operator
    purges it). Idempotent. Returns whether it was installed until now.

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be reached.
    """
    with runtime.sessions() as session, session.begin():
        store = session.get(Store, store_id, with_for_update=True)
        if store is None or store.status == StoreStatus.UNINSTALLED:
            return False
        store.status = StoreStatus.UNINSTALLED
        store.auth_token_encrypted = None
        store.uninstalled_at = runtime.clock()
    return True


def is_this_app(store: Store, removed: AppRemoved) -> bool:
    """Whether the deleted app is relance as installed in ``store`` (APP_DELETED is sent for
    any app of the Saleor): same app id, or — when the id was never learnt — relance's
    manifest identifier."""
    if store.app_id:
        return removed.app_id == store.app_id
    return removed.identifier == APP_ID


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
        signature(str): the ``Saleor-Signature`` header (a detached JWS, or a legacy HMAC).
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
        ``accepted=False`` with a ``reason`` for events relance does not handle or that carry
        nothing to keep; otherwise the recorded event's id (if an event was recorded) and
        whether it had been recorded before.
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
    mapped = mapper(data)
    if isinstance(mapped, NothingToRecord):
        logger.info("saleor store %s: %s: %s", store.id, event_name, mapped.reason)
        return WebhookOutcome(accepted=False, reason=mapped.reason)
    if isinstance(mapped, AppRemoved):
        if not is_this_app(store, mapped):
            return WebhookOutcome(accepted=False, reason="another app was deleted")
        if uninstall_store(runtime, store.id):
            logger.warning(
                "saleor store %s: relance was deleted from Saleor, uninstalled", store.id
            )
        return WebhookOutcome(accepted=True)
    if isinstance(mapped, CheckoutState):
        seen = accept_checkout(runtime, store.id, mapped)
        return WebhookOutcome(
            accepted=True,
            duplicate=seen.stale,
            event_id=seen.event.event_id if seen.event else None,
            checkout=seen.status.value if seen.status else None,
        )
    event: DomainEvent = mapped
    accepted = accept_domain_event(runtime, store.id, event)
    return WebhookOutcome(accepted=True, duplicate=accepted.duplicate, event_id=accepted.event_id)
