"""``pushUnsubscribe``: a storefront forgets one of the signed-in customer's push subscriptions
(the customer turned notifications off, or signs out of a shared browser).

Only the customer's own subscription for that endpoint is deleted. The answer is ``ok`` whether
or not there was one, and whether or not the email is a known contact: it tells nothing about
either. The contact's push consent is left as it is (other browsers may still be subscribed).
"""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.channels.webpush import MAX_ENDPOINT_CHARS
from relance.graphql.context import Info
from relance.graphql.mutations.push_subscribe import (
    PushSubscriptionResult,
    authenticate,
    refused,
)
from relance.graphql.storefront_auth import Customer, StorefrontError, StorefrontErrorCode
from relance.store.models import Contact
from relance.store.repositories.push import delete_subscription


async def push_unsubscribe(
    info: Info, store_api_url: str, token: str, endpoint: str
) -> PushSubscriptionResult:
    customer = await authenticate(info, store_api_url, token)
    if isinstance(customer, StorefrontError):
        return refused(customer)
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        return refused(
            StorefrontError(
                field="endpoint",
                code=StorefrontErrorCode.TOO_LONG,
                message=f"longer than {MAX_ENDPOINT_CHARS} characters",
            )
        )
    return await info.context.in_transaction(lambda session: _forget(session, customer, endpoint))


def _forget(session: Session, customer: Customer, endpoint: str) -> PushSubscriptionResult:
    contact_id = session.scalars(
        select(Contact.id).where(
            Contact.store_id == customer.store_id, Contact.email == customer.email
        )
    ).one_or_none()
    if contact_id is not None:
        delete_subscription(session, customer.store_id, endpoint, contact_id)
    return PushSubscriptionResult(ok=True, errors=[])


field = strawberry.mutation(
    resolver=push_unsubscribe,
    description=(
        "Storefront: forget the browser's push subscription (its endpoint) of the customer whose "
        "Saleor access token is given. ok whether or not it was registered."
    ),
)
