"""Ready-made campaigns that merchants create in one call."""

from __future__ import annotations

from dataclasses import dataclass

from relance.automation.definitions import (
    CampaignDefinition,
    Repeatability,
    SendEmailStep,
    Trigger,
)
from relance.automation.events import EventType


@dataclass(frozen=True, slots=True)
class CampaignTemplate:
    """A named, ready-made campaign definition."""

    key: str
    name: str
    description: str
    definition: CampaignDefinition


POST_PURCHASE = CampaignTemplate(
    key="post_purchase",
    name="Post-purchase thank you",
    description="Thanks every customer for their order, in their language, with its lines.",
    definition=CampaignDefinition(
        trigger=Trigger(event=EventType.ORDER_PLACED),
        repeatability=Repeatability.MULTIPLE,
        entry_step="thank_you",
        steps=(SendEmailStep(id="thank_you", design="post_purchase", transactional=True),),
    ),
)

#: Every ready-made campaign, by key.
TEMPLATES: dict[str, CampaignTemplate] = {t.key: t for t in (POST_PURCHASE,)}
