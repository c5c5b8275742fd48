"""Ready-made campaigns that merchants create in one call (SPEC.md §3, issue 4).

Each :class:`CampaignTemplate` holds a complete, valid :class:`CampaignDefinition` built from the
same models a merchant edits, so a campaign created from a template is an ordinary draft. Every
template maintains five languages (:data:`LANGUAGES`) and only uses packaged designs that exist
in all of them (``relance/templates/designs/``). docs/ready-made-campaigns.md draws each flow.

- ``abandoned_cart``: ``cart.abandoned`` → 2 h → one of three designs by gender → 2 days → a
  single-use 10 % code → reminder. Leaves on ``order.placed``; one cart at a time per contact.
- ``post_purchase``: ``order.placed`` → thank-you (transactional), split by language → the next
  weekday 09:00-17:00 local → 2 days → a cross-sell email, unless one was received in 2 days.
- ``welcome_prospect``: sign-up or newsletter with no order yet → 10 % first-order code → 7 days →
  reminder if still no order. Leaves on ``order.placed``.
- ``welcome_customer``: sign-up or newsletter from a contact who already ordered → thank-you.

Keys (:attr:`CampaignTemplate.key`) are stored with the campaigns created from them: never
rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from relance.automation.conditions import (
    Channel,
    ContactField,
    ContactFieldPredicate,
    MessageCountPredicate,
    Op,
    OrderStat,
    OrderStatPredicate,
)
from relance.automation.definitions import (
    CampaignDefinition,
    CreateDiscountStep,
    DelayStep,
    EventTrigger,
    ExitOnEvent,
    ExitStep,
    Repeatability,
    SendEmailStep,
    SplitBranch,
    SplitStep,
    WaitUntilStep,
)
from relance.automation.events import EventType

#: The languages every ready-made campaign and its designs are written in.
LANGUAGES: tuple[str, ...] = ("fr", "en", "de", "es", "it")
#: Language names for split branch labels, in :data:`LANGUAGES` order.
_LANGUAGE_LABELS = {
    "fr": "French",
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
}

HOUR = 3600  #: seconds
DAY = 24 * HOUR  #: seconds


@dataclass(frozen=True, slots=True)
class CampaignTemplate:
    """A named, ready-made campaign definition; ``name`` and ``description`` are English."""

    key: str
    name: str
    description: str
    definition: CampaignDefinition


def _orders_count(op: Op, value: int) -> OrderStatPredicate:
    return OrderStatPredicate(stat=OrderStat.ORDERS_COUNT, op=op, value=value)


# --- abandoned cart ------------------------------------------------------------------------

ABANDONED_CART = CampaignTemplate(
    key="abandoned_cart",
    name="Abandoned cart",
    description=(
        "Two hours after a cart is abandoned, reminds the contact of it with a design that "
        "greets women, men and others in their own words; two days later, sends a reminder "
        "with a single-use 10% code valid 7 days. Stops as soon as an order is placed."
    ),
    definition=CampaignDefinition(
        trigger=EventTrigger(events=(EventType.CART_ABANDONED.value,)),
        repeatability=Repeatability.AFTER_EXIT,
        exit_rules=(ExitOnEvent(event=EventType.ORDER_PLACED.value),),
        category="abandoned-cart",
        languages=LANGUAGES,
        entry_step="wait_2_hours",
        steps=(
            DelayStep(id="wait_2_hours", label="Wait 2 hours", seconds=2 * HOUR, next="by_gender"),
            SplitStep(
                id="by_gender",
                label="Split on gender",
                branches=(
                    SplitBranch(
                        label="Female",
                        condition=ContactFieldPredicate(
                            field=ContactField.GENDER, op=Op.EQ, value="female"
                        ),
                        next="cart_female",
                    ),
                    SplitBranch(
                        label="Male",
                        condition=ContactFieldPredicate(
                            field=ContactField.GENDER, op=Op.EQ, value="male"
                        ),
                        next="cart_male",
                    ),
                ),
                default_next="cart_unknown",
            ),
            SendEmailStep(
                id="cart_female",
                label="Cart reminder (female greeting)",
                design="abandoned_cart_female",
                next="wait_2_days",
            ),
            SendEmailStep(
                id="cart_male",
                label="Cart reminder (male greeting)",
                design="abandoned_cart_male",
                next="wait_2_days",
            ),
            SendEmailStep(
                id="cart_unknown",
                label="Cart reminder (neutral greeting)",
                design="abandoned_cart_unknown",
                next="wait_2_days",
            ),
            DelayStep(id="wait_2_days", label="Wait 2 days", seconds=2 * DAY, next="create_code"),
            CreateDiscountStep(
                id="create_code",
                label="10% code, valid 7 days",
                kind="percentage",
                value=Decimal(10),
                valid_days=7,
                prefix="COMEBACK",
                next="reminder",
            ),
            SendEmailStep(
                id="reminder", label="Reminder with the code", design="abandoned_cart_reminder"
            ),
        ),
    ),
)


# --- post-purchase -------------------------------------------------------------------------


def _thank_you(step_id: str, label: str) -> SendEmailStep:
    return SendEmailStep(
        id=step_id, label=label, design="post_purchase", transactional=True, next="next_weekday"
    )


POST_PURCHASE = CampaignTemplate(
    key="post_purchase",
    name="Post-purchase thank you",
    description=(
        "Thanks every customer for their order, in their language, with its lines; two days "
        "later, during weekday office hours in their time zone, suggests what goes with it — "
        "unless they received another cross-sell email in the last two days."
    ),
    definition=CampaignDefinition(
        trigger=EventTrigger(events=(EventType.ORDER_PLACED.value,)),
        repeatability=Repeatability.MULTIPLE,
        languages=LANGUAGES,
        entry_step="by_language",
        steps=(
            SplitStep(
                id="by_language",
                label="Split on language",
                branches=tuple(
                    SplitBranch(
                        label=_LANGUAGE_LABELS[language],
                        condition=ContactFieldPredicate(
                            field=ContactField.LANGUAGE,
                            op=Op.EQ,
                            value=language,
                            match_subtags=True,
                        ),
                        next=f"thank_you_{language}",
                    )
                    for language in LANGUAGES
                ),
                default_next="thank_you_other",
            ),
            *(
                _thank_you(f"thank_you_{language}", f"Thank you ({_LANGUAGE_LABELS[language]})")
                for language in LANGUAGES
            ),
            _thank_you("thank_you_other", "Thank you (other languages)"),
            WaitUntilStep(
                id="next_weekday",
                label="Weekday, 09:00-17:00 local",
                weekdays=("mon", "tue", "wed", "thu", "fri"),
                window_start=time(9),
                window_end=time(17),
                next="wait_2_days",
            ),
            DelayStep(
                id="wait_2_days", label="Wait 2 days", seconds=2 * DAY, next="cross_sell_check"
            ),
            SplitStep(
                id="cross_sell_check",
                label="Cross-sell received in the last 2 days?",
                branches=(
                    SplitBranch(
                        label="Already received one",
                        condition=MessageCountPredicate(
                            channel=Channel.EMAIL,
                            category="cross-sell",
                            within_seconds=2 * DAY,
                            op=Op.GTE,
                            value=1,
                        ),
                        next="already_cross_sold",
                    ),
                ),
                default_next="cross_sell",
            ),
            ExitStep(id="already_cross_sold", label="Skip the cross-sell"),
            SendEmailStep(
                id="cross_sell",
                label="You might also like",
                design="cross_sell",
                category="cross-sell",
            ),
        ),
    ),
)


# --- welcome -------------------------------------------------------------------------------

_WELCOME_TRIGGER = EventTrigger(
    events=(EventType.CUSTOMER_SIGNED_UP.value, EventType.NEWSLETTER_SUBSCRIBED.value)
)

WELCOME_PROSPECT = CampaignTemplate(
    key="welcome_prospect",
    name="Welcome for prospects",
    description=(
        "Welcomes contacts who sign up or subscribe before their first order with a single-use "
        "10% code valid 30 days; if they still have not ordered 7 days later, reminds them "
        "the code is still valid. Stops as soon as an order is placed."
    ),
    definition=CampaignDefinition(
        trigger=_WELCOME_TRIGGER,
        entry_filter=_orders_count(Op.EQ, 0),
        repeatability=Repeatability.ONCE,
        exit_rules=(ExitOnEvent(event=EventType.ORDER_PLACED.value),),
        category="welcome",
        languages=LANGUAGES,
        entry_step="create_code",
        steps=(
            CreateDiscountStep(
                id="create_code",
                label="10% first-order code, valid 30 days",
                kind="percentage",
                value=Decimal(10),
                valid_days=30,
                prefix="WELCOME",
                next="welcome",
            ),
            SendEmailStep(
                id="welcome",
                label="Welcome with the code",
                design="welcome_prospect",
                next="wait_7_days",
            ),
            DelayStep(id="wait_7_days", label="Wait 7 days", seconds=7 * DAY, next="ordered_yet"),
            SplitStep(
                id="ordered_yet",
                label="Ordered since?",
                branches=(
                    SplitBranch(
                        label="Has ordered",
                        condition=_orders_count(Op.GTE, 1),
                        next="already_customer",
                    ),
                ),
                default_next="reminder",
            ),
            ExitStep(id="already_customer", label="Already a customer"),
            SendEmailStep(
                id="reminder", label="The code is still valid", design="welcome_reminder"
            ),
        ),
    ),
)

WELCOME_CUSTOMER = CampaignTemplate(
    key="welcome_customer",
    name="Welcome for existing customers",
    description=(
        "Thanks contacts who sign up or subscribe after having ordered already, without a "
        "discount code (prospects get the welcome_prospect campaign)."
    ),
    definition=CampaignDefinition(
        trigger=_WELCOME_TRIGGER,
        entry_filter=_orders_count(Op.GTE, 1),
        repeatability=Repeatability.ONCE,
        category="welcome",
        languages=LANGUAGES,
        entry_step="welcome",
        steps=(
            SendEmailStep(
                id="welcome", label="Thank you for your loyalty", design="welcome_customer"
            ),
        ),
    ),
)

#: Every ready-made campaign, by key.
TEMPLATES: dict[str, CampaignTemplate] = {
    t.key: t for t in (ABANDONED_CART, POST_PURCHASE, WELCOME_PROSPECT, WELCOME_CUSTOMER)
}
