"""Expected failures of campaign mutations, the Saleor way: ``errors: [CampaignError!]!``.

A mutation payload's object is null exactly when its ``errors`` list is not empty. ``field`` names
the offending input (``templateKey``, ``name``, ``id``, ``version``, ``contactEmail``) or a path
inside it: ``definition.steps.0.design`` for a definition that does not parse, ``steps.0.design``
for a draft that cannot be published (the draft's own paths). It is null when no single field is
at fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

import strawberry

from relance.automation.validation import Violation
from relance.store.repositories.campaigns import DefinitionError


@strawberry.enum(description="Why a campaign mutation failed, or what a definition breaks.")
class CampaignErrorCode(Enum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    NO_DRAFT = "no_draft"
    NOT_PUBLISHED = "not_published"
    INVALID_DEFINITION = "invalid_definition"
    TOO_MANY_STEPS = "too_many_steps"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_STEP = "unknown_step"
    UNREACHABLE = "unreachable"
    CYCLE = "cycle"
    NO_DEFAULT = "no_default"
    INVALID_WEIGHTS = "invalid_weights"
    INVALID_WINDOW = "invalid_window"
    UNKNOWN_EVENT = "unknown_event"
    UNKNOWN_DESIGN = "unknown_design"
    MISSING_LANGUAGE = "missing_language"
    UNKNOWN_LIST = "unknown_list"
    NO_TEST_EMAILS = "no_test_emails"
    TOO_DEEP = "too_deep"
    TOO_MANY_PREDICATES = "too_many_predicates"
    EMPTY_GROUP = "empty_group"


@strawberry.type(description="One reason a campaign mutation did not happen, or one problem.")
class CampaignError:
    field: str | None = strawberry.field(
        description=(
            "The input field (name, id, definition.steps.0.design…) or, for a draft's "
            "violations, the path in the draft's definition (steps.0.design); null if none."
        )
    )
    code: CampaignErrorCode
    message: str


def error_code(code: str) -> CampaignErrorCode:
    """The GraphQL code of a violation code; INVALID for a code this schema does not know yet."""
    try:
        return CampaignErrorCode(code)
    except ValueError:
        return CampaignErrorCode.INVALID


def errors_from_violations(violations: Iterable[Violation]) -> list[CampaignError]:
    """One error per violation, in order; an empty path becomes a null field."""
    return [
        CampaignError(field=v.path or None, code=error_code(v.code), message=v.message)
        for v in violations
    ]


def errors_from_parsing(error: DefinitionError, argument: str) -> list[CampaignError]:
    """One INVALID error per problem of a submitted JSON argument, its field being the path
    inside the argument: ``definition.steps.0.design``."""
    return [
        CampaignError(
            field=f"{argument}.{v.path}" if v.path else argument,
            code=CampaignErrorCode.INVALID,
            message=v.message,
        )
        for v in error.violations
    ]


def error(field: str | None, code: CampaignErrorCode, message: str) -> list[CampaignError]:
    """A one-error list."""
    return [CampaignError(field=field, code=code, message=message)]


def campaign_not_found(campaign_id: str) -> list[CampaignError]:
    """The error of an ``id`` that names no campaign of the caller's store."""
    return error("id", CampaignErrorCode.NOT_FOUND, f"no campaign {campaign_id!r} in this store")
