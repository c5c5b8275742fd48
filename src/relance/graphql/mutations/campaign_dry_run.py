"""``campaignDryRun(id, contactEmail | contactId, eventType)``: the path a contact would take."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.scalars import JSON

from relance.automation.dry_run import DryRun, dry_run
from relance.graphql.context import Info
from relance.graphql.errors import CampaignError, CampaignErrorCode, error, errors_from_parsing
from relance.graphql.ids import parse_id
from relance.graphql.mutations._campaign import on_campaign
from relance.graphql.permissions import CanManage, IsAdmin
from relance.store import models
from relance.store.repositories import campaigns as campaign_repo
from relance.store.repositories.facts import load_situation
from relance.store.repositories.stores import get_store


@strawberry.enum(name="DryRunOutcome", description="How a dry run ends.")
class DryRunOutcomeEnum(Enum):
    NOT_ENTERED = "not_entered"
    COMPLETED = "completed"
    EXITED = "exited"
    ERROR = "error"
    UNFINISHED = "unfinished"


@strawberry.type(description="One decision of a dry run, at the instant it would happen.")
class DryRunStep:
    step_id: str
    action: str = strawberry.field(description="As in enrollment traces: entered, send, waited…")
    detail: str
    at: datetime


@strawberry.type(description="Result of campaignDryRun: the path XOR errors.")
class CampaignDryRun:
    version_number: int | None = strawberry.field(description="The version that was tried.")
    outcome: DryRunOutcomeEnum | None
    reason: str | None = strawberry.field(
        description="Why it ends: the entry refusal's code, or the end reason (completed…)."
    )
    steps: list[DryRunStep] = strawberry.field(description="Every decision, in order.")
    ended_at: datetime | None
    errors: list[CampaignError]


def _failed(errors: list[CampaignError]) -> CampaignDryRun:
    return CampaignDryRun(
        version_number=None, outcome=None, reason=None, steps=[], ended_at=None, errors=errors
    )


def _result(number: int, run: DryRun) -> CampaignDryRun:
    return CampaignDryRun(
        version_number=number,
        outcome=DryRunOutcomeEnum(run.outcome),
        reason=run.reason,
        steps=[
            DryRunStep(step_id=s.step_id, action=s.action, detail=s.detail, at=s.at)
            for s in run.steps
        ],
        ended_at=run.ended_at,
        errors=[],
    )


async def campaign_dry_run(
    info: Info,
    id: strawberry.ID,
    contact_email: str | None = None,
    contact_id: strawberry.ID | None = None,
    event_type: str | None = None,
    event_context: JSON | None = None,
    version: int | None = None,
) -> CampaignDryRun:
    if (contact_email is None) == (contact_id is None):
        return _failed(
            error("contactEmail", CampaignErrorCode.INVALID, "give contactEmail or contactId")
        )
    if event_context is not None and not isinstance(event_context, dict):
        return _failed(
            error("eventContext", CampaignErrorCode.INVALID, "the event context is a JSON object")
        )
    context: dict[str, Any] | None = event_context
    store_id = info.context.store_id
    now = info.context.runtime.clock()

    def run(session: Session, row: models.Campaign) -> CampaignDryRun:
        chosen = campaign_repo.exported_version(session, row, version)
        if chosen is None:
            field = "version" if version is not None else "id"
            return _failed(error(field, CampaignErrorCode.NOT_FOUND, "no such version to try"))
        try:
            definition = campaign_repo.parse_definition(chosen.definition)
        except campaign_repo.DefinitionError as problem:
            return _failed(errors_from_parsing(problem, "version"))
        contact = campaign_repo.find_contact(
            session,
            store_id,
            email=contact_email,
            contact_id=parse_id(contact_id) if contact_id is not None else None,
        )
        store = get_store(session, store_id)
        if contact is None or store is None:
            field = "contactEmail" if contact_email is not None else "contactId"
            return _failed(error(field, CampaignErrorCode.NOT_FOUND, "no such contact here"))
        situation = load_situation(
            session,
            store=store,
            contact=contact,
            campaign_id=row.id,
            definition=definition,
            context=context,
            now=now,
        )
        return _result(chosen.number, dry_run(definition, situation, now, event_type=event_type))

    return await on_campaign(info, id, run, _failed)


field = strawberry.mutation(
    resolver=campaign_dry_run,
    permission_classes=[IsAdmin, CanManage],
    description=(
        "The path a contact (`contactEmail` or `contactId`) would take through the campaign if "
        "it entered now and every wait elapsed: each decision with its instant, and how it ends. "
        "Tries version `version`, else the draft, else the published version. With `eventType` "
        "the entry rules decide first (as for a contact with no earlier enrollment); "
        "`eventContext` stands for the trigger event's data (order, checkout…). Nothing is "
        "sent or written. Needs MANAGE_USERS (Dashboard) or an API token."
    ),
)
