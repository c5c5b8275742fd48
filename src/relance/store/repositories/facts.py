"""Loading what the engine reads about a contact: :class:`Facts` and the :class:`Situation`.

Only what a definition can read is loaded: messages reach back as far as its conditions and the
store's frequency cap need (the whole history when a condition counts without a window), and
purchases only when a condition asks about them. Three small indexed queries per contact at most.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from relance.automation.conditions import (
    Channel,
    Condition,
    Facts,
    MessageRecord,
    PurchaseRecord,
    requirements,
)
from relance.automation.definitions import (
    CampaignDefinition,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    SplitStep,
)
from relance.automation.engine import CapMode, ConsentMode, SendingPolicy, Situation
from relance.store.models import Contact, ListMember, Message, MessageStatus, Purchase, Store
from relance.store.repositories.contacts import consent_statuses

#: Look-back used when a condition counts over the whole history: ten years.
WHOLE_HISTORY = timedelta(days=3660)
#: Most history rows loaded per contact (newest first): bounds memory for very active contacts.
MAX_HISTORY_ROWS = 5000


def conditions_of(definition: CampaignDefinition) -> Iterator[Condition]:
    """Every condition a definition holds: trigger, entry filter, exit rules, split branches."""
    if isinstance(definition.trigger, EventTrigger) and definition.trigger.where is not None:
        yield definition.trigger.where
    if definition.entry_filter is not None:
        yield definition.entry_filter
    for rule in definition.exit_rules:
        if isinstance(rule, ExitOnCondition):
            yield rule.condition
        elif isinstance(rule, ExitOnEvent) and rule.where is not None:
            yield rule.where
    for step in definition.steps:
        if isinstance(step, SplitStep):
            for branch in step.branches:
                yield branch.condition


def sending_policy(store: Store) -> SendingPolicy:
    """The store's marketing rules as the engine takes them."""
    hours = store.frequency_cap_hours
    return SendingPolicy(
        consent_mode=ConsentMode(store.consent_mode or ConsentMode.OPT_IN),
        frequency_cap_seconds=hours * 3600 if hours else None,
        frequency_cap_mode=CapMode(store.frequency_cap_mode or CapMode.SKIP),
    )


def load_facts(
    session: Session,
    contact: Contact,
    *,
    definitions: list[CampaignDefinition],
    policy: SendingPolicy,
    event: Mapping[str, Any] | None,
    now: datetime,
) -> Facts:
    """The contact's facts, with history deep enough for ``definitions`` and ``policy``."""
    message_since: datetime | None = None
    purchase_since: datetime | None = None
    needs_messages = policy.frequency_cap_seconds is not None
    if needs_messages:
        message_since = now - timedelta(seconds=policy.frequency_cap_seconds or 0)
    needs_purchases = False
    for definition in definitions:
        for condition in conditions_of(definition):
            needed = requirements(condition)
            if needed.messages:
                needs_messages = True
                since = now - (
                    timedelta(seconds=needed.message_lookback)
                    if needed.message_lookback
                    else WHOLE_HISTORY
                )
                message_since = since if message_since is None else min(message_since, since)
            if needed.purchases:
                needs_purchases = True
                since = now - (
                    timedelta(seconds=needed.purchase_lookback)
                    if needed.purchase_lookback
                    else WHOLE_HISTORY
                )
                purchase_since = since if purchase_since is None else min(purchase_since, since)
    messages: tuple[MessageRecord, ...] = ()
    if needs_messages and message_since is not None:
        messages = tuple(
            MessageRecord(
                channel=Channel(channel),
                sent_at=sent_at or message_since,
                category=category,
                transactional=transactional,
            )
            for channel, sent_at, category, transactional in session.execute(
                select(Message.channel, Message.sent_at, Message.category, Message.transactional)
                .where(
                    Message.contact_id == contact.id,
                    Message.status == MessageStatus.SENT,
                    Message.sent_at >= message_since,
                    Message.channel.in_([c.value for c in Channel]),
                )
                .order_by(Message.sent_at.desc())
                .limit(MAX_HISTORY_ROWS)
            )
        )
    purchases: tuple[PurchaseRecord, ...] = ()
    if needs_purchases and purchase_since is not None:
        purchases = tuple(
            PurchaseRecord(product_id=product_id, variant_id=variant_id, purchased_at=at)
            for product_id, variant_id, at in session.execute(
                select(Purchase.product_id, Purchase.variant_id, Purchase.purchased_at)
                .where(Purchase.contact_id == contact.id, Purchase.purchased_at >= purchase_since)
                .order_by(Purchase.purchased_at.desc())
                .limit(MAX_HISTORY_ROWS)
            )
        )
    lists = frozenset(
        session.scalars(select(ListMember.list_key).where(ListMember.contact_id == contact.id))
    )
    return Facts(
        email=contact.email,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        language=contact.language,
        country=contact.country,
        gender=contact.gender,
        time_zone=contact.time_zone,
        platform_user_id=contact.platform_user_id,
        created_at=contact.created_at,
        custom_fields=dict(contact.custom_fields or {}),
        tags=frozenset(contact.tags or ()),
        lists=lists,
        consents=consent_statuses(contact),
        orders_count=contact.orders_count,
        total_spent=contact.total_spent,
        first_order_at=contact.first_order_at,
        last_order_at=contact.last_order_at,
        purchases=purchases,
        event=event,
        messages=messages,
    )


def load_situation(
    session: Session,
    *,
    store: Store,
    contact: Contact,
    campaign_id: UUID,
    definition: CampaignDefinition,
    context: Mapping[str, Any] | None,
    now: datetime,
) -> Situation:
    """Everything :func:`relance.automation.engine.advance` needs besides definition and state."""
    policy = sending_policy(store)
    facts = load_facts(
        session, contact, definitions=[definition], policy=policy, event=context, now=now
    )
    return Situation(
        facts=facts,
        contact_key=str(contact.id),
        campaign_key=str(campaign_id),
        store_time_zone=store.timezone or "UTC",
        policy=policy,
    )
