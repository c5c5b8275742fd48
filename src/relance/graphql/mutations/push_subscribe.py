"""``pushSubscribe``: a storefront registers the browser's Web Push subscription for the
signed-in customer.

The storefront passes what ``PushManager.subscribe({applicationServerKey: <pushPublicKey>})``
returned (``subscription.toJSON()``: endpoint and keys) with the customer's Saleor access token.
The token names the contact (made if new: registering is the customer's own act, not something
the answer reveals); the subscription is checked without any network access
(:func:`relance.channels.webpush.check_subscription`) and saved, idempotently, per endpoint —
an endpoint already registered moves to this customer. Registering records the contact's push
consent as ``subscribed`` (source ``push subscription``): the browser's permission prompt was
the opt-in.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from relance.automation.contacts import ContactUpdate
from relance.channels.webhooks import AddressPolicy
from relance.channels.webpush import PushTarget, check_subscription
from relance.graphql.context import Info
from relance.graphql.storefront_auth import (
    Customer,
    CustomerTokenError,
    StorefrontError,
    StorefrontErrorCode,
    authenticate_customer,
)
from relance.store.models import Store
from relance.store.repositories.contacts import consent_statuses, set_consent, upsert_contact
from relance.store.repositories.push import push_public_key, save_subscription

#: Where the consent recorded by a registration says it came from.
CONSENT_SOURCE = "push subscription"


@strawberry.input(description="The keys of a PushSubscription (base64url, as toJSON() gives).")
class PushSubscriptionKeysInput:
    p256dh: str = strawberry.field(description="The browser's P-256 public key (65 bytes).")
    auth: str = strawberry.field(description="The browser's auth secret (16 bytes).")


@strawberry.input(description="A browser's PushSubscription, as `subscription.toJSON()` gives it.")
class PushSubscriptionInput:
    endpoint: str = strawberry.field(description="The push service URL (https).")
    keys: PushSubscriptionKeysInput


@strawberry.type(description="Result of pushSubscribe or pushUnsubscribe: ok XOR errors.")
class PushSubscriptionResult:
    ok: bool = strawberry.field(description="Whether it was done (also when nothing changed).")
    errors: list[StorefrontError]


def refused(*errors: StorefrontError) -> PushSubscriptionResult:
    return PushSubscriptionResult(ok=False, errors=list(errors))


async def authenticate(info: Info, store_api_url: str, token: str) -> Customer | StorefrontError:
    """The customer the token proves, or the error to answer (run off the event loop)."""
    try:
        return await run_in_threadpool(
            authenticate_customer, info.context.runtime, store_api_url, token
        )
    except CustomerTokenError as error:
        return error.as_error()


async def push_subscribe(
    info: Info,
    store_api_url: str,
    token: str,
    subscription: PushSubscriptionInput,
    user_agent: str | None = None,
) -> PushSubscriptionResult:
    runtime = info.context.runtime
    customer = await authenticate(info, store_api_url, token)
    if isinstance(customer, StorefrontError):
        return refused(customer)
    policy = AddressPolicy(tuple(runtime.settings.webhook_allowed_networks))
    target, problems = check_subscription(
        subscription.endpoint, subscription.keys.p256dh, subscription.keys.auth, policy
    )
    if target is None:
        return refused(
            *(
                StorefrontError(field=p.path, code=StorefrontErrorCode(p.code), message=p.message)
                for p in problems
            )
        )
    now = runtime.clock()
    return await info.context.in_transaction(
        lambda session: _save(session, customer, target, user_agent, now)
    )


def _save(
    session: Session,
    customer: Customer,
    target: PushTarget,
    user_agent: str | None,
    now: datetime,
) -> PushSubscriptionResult:
    store = session.get(Store, customer.store_id)
    if store is None or push_public_key(store) is None:
        return refused(
            StorefrontError(
                field=None,
                code=StorefrontErrorCode.NOT_CONFIGURED,
                message="this store has no push keys (pushPublicKey is null)",
            )
        )
    contact = upsert_contact(
        session,
        customer.store_id,
        ContactUpdate(email=customer.email, platform_user_id=customer.user_id),
        now,
    )
    if consent_statuses(contact).get("push") != "subscribed":
        set_consent(contact, "push", "subscribed", CONSENT_SOURCE, now)
    save_subscription(session, customer.store_id, contact.id, target, user_agent, now)
    return PushSubscriptionResult(ok=True, errors=[])


field = strawberry.mutation(
    resolver=push_subscribe,
    description=(
        "Storefront: register the browser's Web Push subscription for the customer whose Saleor "
        "access token (`tokenCreate`'s `token`) is given. No other credential is needed. "
        "Idempotent per endpoint; the customer's push consent becomes subscribed."
    ),
)
