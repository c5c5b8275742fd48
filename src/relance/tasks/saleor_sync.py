"""Keeping Saleor and relance in step about customers, from the sweep.

Two jobs, both outside any transaction while Saleor is called, both idempotent:

- **Consent write-back.** Consent is relance's own (SPEC.md §2), but merchants see it in Saleor:
  every change bumps the contact's ``consent_revision``; :func:`sync_consents` writes the
  statuses into the customer's public metadata (``relance.consent.<channel>``) and records the
  revision it wrote. A change made meanwhile has a higher revision and is written on the next
  pass; writing the same statuses twice is harmless.
- **Customer details on first sight.** Webhook payloads carry no order history: a customer who
  bought before relance was installed would count 0 orders. :func:`sync_customer_details` asks
  Saleor once per contact that has a Saleor user id (orders count, language, country, names) and
  fills what relance lacks — counts only ever go up, told fields are never overwritten.

A store whose token Saleor refuses is marked disconnected (and skipped until reinstalled); a
customer Saleor will not let the app touch (staff users need MANAGE_STAFF) is recorded as done,
so it is not asked again and again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from uuid import UUID

from sqlalchemy import select, update

from relance.discounts import PlatformAccess
from relance.plugin.saleor.client import SaleorApi
from relance.plugin.saleor.customers import fetch_customer, write_consent_metadata
from relance.plugin.saleor.errors import SaleorApiError, SaleorPermissionDenied, SaleorTokenRefused
from relance.runtime import Runtime
from relance.store.models import Contact, Store, StoreKind, StoreStatus
from relance.store.repositories.contacts import consent_statuses
from relance.store.repositories.stores import mark_disconnected

logger = logging.getLogger(__name__)

#: Contacts handled per pass and job.
BATCH = 100

ApiFactory = Callable[[PlatformAccess], SaleorApi]


def _access(runtime: Runtime, store: Store) -> PlatformAccess:
    token = (
        runtime.secrets.decrypt(store.auth_token_encrypted) if store.auth_token_encrypted else None
    )
    return PlatformAccess(store_id=str(store.id), api_url=store.api_url, token=token)


def _pending(runtime: Runtime, *where: object) -> dict[UUID, tuple[Store, list[Contact]]]:
    """Up to :data:`BATCH` contacts matching ``where`` of active Saleor stores, by store."""
    by_store: dict[UUID, tuple[Store, list[Contact]]] = {}
    grouped: dict[UUID, list[Contact]] = defaultdict(list)
    stores: dict[UUID, Store] = {}
    with runtime.sessions() as session:
        rows = session.execute(
            select(Contact, Store)
            .join(Store, Store.id == Contact.store_id)
            .where(
                Store.kind == StoreKind.SALEOR,
                Store.status == StoreStatus.ACTIVE,
                Contact.platform_user_id.is_not(None),
                *where,  # type: ignore[arg-type]
            )
            .order_by(Contact.updated_at)
            .limit(BATCH)
        ).all()
        for contact, store in rows:
            grouped[store.id].append(contact)
            stores[store.id] = store
        session.expunge_all()
    for store_id, contacts in grouped.items():
        by_store[store_id] = (stores[store_id], contacts)
    return by_store


def _disconnect(runtime: Runtime, store: Store) -> None:
    logger.warning("store %s: Saleor refused the app token; marked disconnected", store.id)
    with runtime.sessions() as session, session.begin():
        mark_disconnected(session, store.id, runtime.clock())


def sync_consents(runtime: Runtime, api_factory: ApiFactory = SaleorApi.for_access) -> int:
    """Write changed consents back to Saleor; returns how many contacts were brought in step."""
    done = 0
    for store, contacts in _pending(
        runtime, Contact.consent_revision > Contact.consent_synced_revision
    ).values():
        done += _each(runtime, store, contacts, api_factory, _write_consent)
    return done


def _write_consent(runtime: Runtime, api: SaleorApi, contact: Contact) -> None:
    assert contact.platform_user_id is not None
    try:
        write_consent_metadata(api, contact.platform_user_id, consent_statuses(contact))
    except SaleorPermissionDenied:
        logger.info("contact %s: Saleor does not let the app write this customer", contact.id)
    with runtime.sessions() as session, session.begin():
        session.execute(
            update(Contact)
            .where(
                Contact.id == contact.id,
                Contact.consent_synced_revision < contact.consent_revision,
            )
            .values(consent_synced_revision=contact.consent_revision)
        )


def sync_customer_details(runtime: Runtime, api_factory: ApiFactory = SaleorApi.for_access) -> int:
    """Fill new contacts' details from Saleor once; returns how many contacts were looked up."""
    done = 0
    for store, contacts in _pending(runtime, Contact.platform_synced_at.is_(None)).values():
        done += _each(runtime, store, contacts, api_factory, _fill_details)
    return done


def _fill_details(runtime: Runtime, api: SaleorApi, contact: Contact) -> None:
    assert contact.platform_user_id is not None
    try:
        details = fetch_customer(api, user_id=contact.platform_user_id)
    except SaleorPermissionDenied:
        details = None
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        row = session.scalars(
            select(Contact).where(Contact.id == contact.id).with_for_update()
        ).one_or_none()
        if row is None:
            return
        row.platform_synced_at = now
        if details is None:
            return
        if details.orders_count is not None and details.orders_count > row.orders_count:
            row.orders_count = details.orders_count
        for name in ("language", "country", "first_name", "last_name"):
            if getattr(row, name) is None and getattr(details, name) is not None:
                setattr(row, name, getattr(details, name))


def _each(
    runtime: Runtime,
    store: Store,
    contacts: Iterable[Contact],
    api_factory: ApiFactory,
    job: Callable[[Runtime, SaleorApi, Contact], None],
) -> int:
    done = 0
    try:
        with api_factory(_access(runtime, store)) as api:
            for contact in contacts:
                try:
                    job(runtime, api, contact)
                    done += 1
                except SaleorTokenRefused:
                    raise
                except (SaleorApiError, ValueError) as error:
                    # left as it is: the next pass tries again
                    logger.warning("contact %s: Saleor sync failed (%s)", contact.id, error)
    except SaleorTokenRefused:
        _disconnect(runtime, store)
    return done


def sync_with_saleor(runtime: Runtime) -> int:
    """Both jobs, as the sweep thread runs them."""
    return sync_consents(runtime) + sync_customer_details(runtime)
