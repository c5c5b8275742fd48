"""Expected failures of campaign mutations, the Saleor way: ``errors: [CampaignError!]!``.

A mutation payload's object is null exactly when its ``errors`` list is not empty. ``field`` names
the offending input (``templateKey``, ``name``, ``id``) or, for a definition that cannot be
published, the path inside the definition (``steps.0.design``); it is null when no single field
is at fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

import strawberry

from relance.automation.validation import Violation


@strawberry.enum(description="Why a campaign mutation failed.")
class CampaignErrorCode(Enum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    NO_DRAFT = "no_draft"
    INVALID_DEFINITION = "invalid_definition"
    TOO_MANY_STEPS = "too_many_steps"
    DUPLICATE_ID = "duplicate_id"
    UNKNOWN_STEP = "unknown_step"
    UNKNOWN_DESIGN = "unknown_design"
    CYCLE = "cycle"
    UNREACHABLE = "unreachable"


@strawberry.type(description="One reason a campaign mutation did not happen.")
class CampaignError:
    field: str | None = strawberry.field(
        description="The input field, or the path in the definition (steps.0.design), at fault."
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
