"""What the campaign mutations share: finding the caller's campaign by id in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry
from sqlalchemy.orm import Session

from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, campaign_not_found
from relance.graphql.ids import parse_id
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo

P = TypeVar("P")


async def on_campaign(
    info: Info,
    id: strawberry.ID,
    work: Callable[[Session, models.Campaign], P],
    failed: Callable[[list[CampaignError]], P],
) -> P:
    """``work(session, campaign)`` in one transaction for the caller's campaign ``id``, or
    ``failed(errors)`` with a NOT_FOUND error on ``id`` when the store has no such campaign."""
    store_id = info.context.store_id
    campaign_id = parse_id(id)
    if campaign_id is None:
        return failed(campaign_not_found(id))

    def run(session: Session) -> P:
        row = campaign_repo.get_campaign(session, store_id, campaign_id)
        if row is None:
            return failed(campaign_not_found(id))
        return work(session, row)

    return await info.context.in_transaction(run)
