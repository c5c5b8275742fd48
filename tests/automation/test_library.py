"""The ready-made campaigns: valid, exported and imported unchanged, and shaped as issue 4 says."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from relance.automation.conditions import (
    Channel,
    ContactFieldPredicate,
    Facts,
    MessageRecord,
    evaluate,
)
from relance.automation.definitions import (
    AnyStep,
    CampaignDefinition,
    CreateDiscountStep,
    DelayStep,
    EventTrigger,
    ExitOnEvent,
    ExitStep,
    RandomSplitStep,
    Repeatability,
    SendEmailStep,
    SplitStep,
    WaitUntilStep,
)
from relance.automation.library import (
    ABANDONED_CART,
    LANGUAGES,
    POST_PURCHASE,
    TEMPLATES,
    WELCOME_CUSTOMER,
    WELCOME_PROSPECT,
)
from relance.automation.validation import validate
from relance.templates.library import DesignLibrary

NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
HOUR = 3600
DAY = 24 * HOUR


def packaged_designs() -> dict[str, frozenset[str]]:
    library = DesignLibrary()
    return {design: library.languages(design) for design in library.known_designs()}


def send_steps(definition: CampaignDefinition) -> list[SendEmailStep]:
    return [step for step in definition.steps if isinstance(step, SendEmailStep)]


def route(definition: CampaignDefinition, split_id: str, facts: Facts) -> AnyStep:
    """The step a split sends ``facts`` to: the first branch that holds, else the default."""
    split = definition.step(split_id)
    assert isinstance(split, SplitStep)
    target = next(
        (b.next for b in split.branches if evaluate(b.condition, facts, NOW)), split.default_next
    )
    assert target is not None
    return definition.step(target)


def follow(definition: CampaignDefinition, step: AnyStep) -> AnyStep | None:
    """The step after a non-branching one (None: the enrollment ends)."""
    assert not isinstance(step, SplitStep | RandomSplitStep | ExitStep)
    return None if step.next is None else definition.step(step.next)


def test_the_library_holds_the_four_campaigns_of_issue_4() -> None:
    # given the ready-made campaigns / then they are the four, by their stored keys
    assert set(TEMPLATES) == {
        "abandoned_cart",
        "post_purchase",
        "welcome_prospect",
        "welcome_customer",
    }
    for key, template in TEMPLATES.items():
        assert template.key == key
        assert template.name
        assert len(template.description) > 40


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_each_campaign_validates_against_the_packaged_designs(key: str) -> None:
    # given a ready-made campaign and the designs relance ships
    definition = TEMPLATES[key].definition
    # when it is validated as a publish would
    violations = validate(definition, packaged_designs())
    # then nothing is wrong with it
    assert violations == []


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_each_campaign_maintains_five_languages_its_designs_all_have(key: str) -> None:
    # given a ready-made campaign
    definition = TEMPLATES[key].definition
    designs = packaged_designs()
    # then it maintains the five languages, with English as the fallback
    assert definition.languages == LANGUAGES == ("fr", "en", "de", "es", "it")
    assert definition.default_language == "en"
    # and every email it sends exists in each of them
    for step in send_steps(definition):
        assert set(LANGUAGES) <= designs[step.design], step.design


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_each_campaign_round_trips_through_json(key: str) -> None:
    # given a ready-made campaign
    definition = TEMPLATES[key].definition
    # when it is exported and imported again
    imported = CampaignDefinition.model_validate_json(definition.model_dump_json())
    # then nothing changed, and a second export is byte for byte the first
    assert imported == definition
    assert imported.model_dump_json() == definition.model_dump_json()


@pytest.mark.parametrize(
    ("gender", "design"),
    [
        ("female", "abandoned_cart_female"),
        ("Female", "abandoned_cart_female"),
        ("male", "abandoned_cart_male"),
        (None, "abandoned_cart_unknown"),
        ("non-binary", "abandoned_cart_unknown"),
    ],
)
def test_abandoned_cart_greets_by_gender_then_sends_a_code(gender: str | None, design: str) -> None:
    # given the abandoned-cart campaign
    definition = ABANDONED_CART.definition
    # when a contact of that gender walks it
    first = definition.step(definition.entry_step)
    assert isinstance(first, DelayStep)
    email = route(definition, "by_gender", Facts(gender=gender))
    assert isinstance(email, SendEmailStep)
    wait = follow(definition, email)
    code = wait and follow(definition, wait)
    reminder = code and follow(definition, code)
    # then: 2 hours, the design for that gender, 2 days, a 10 % code for 7 days, the reminder, end
    assert first.seconds == 2 * HOUR
    assert first.next == "by_gender"
    assert email.design == design
    assert isinstance(wait, DelayStep)
    assert wait.seconds == 2 * DAY
    assert isinstance(code, CreateDiscountStep)
    assert (code.kind, code.value, code.valid_days, code.prefix) == (
        "percentage",
        Decimal(10),
        7,
        "COMEBACK",
    )
    assert isinstance(reminder, SendEmailStep)
    assert reminder.design == "abandoned_cart_reminder"
    assert follow(definition, reminder) is None


def test_abandoned_cart_entry_and_exit_rules() -> None:
    # given the abandoned-cart campaign / then it starts on an abandoned cart, one at a time, and
    # any order ends it; its emails are marketing of category abandoned-cart
    definition = ABANDONED_CART.definition
    assert definition.trigger == EventTrigger(events=("cart.abandoned",))
    assert definition.repeatability is Repeatability.AFTER_EXIT
    assert definition.exit_rules == (ExitOnEvent(event="order.placed"),)
    assert definition.category == "abandoned-cart"
    assert not any(step.transactional for step in send_steps(definition))
    assert len(send_steps(definition)) == 4


@pytest.mark.parametrize(
    ("language", "step_id"),
    [
        ("fr", "thank_you_fr"),
        ("fr-CA", "thank_you_fr"),
        ("EN-gb", "thank_you_en"),
        ("de", "thank_you_de"),
        ("es-MX", "thank_you_es"),
        ("it", "thank_you_it"),
        ("pt-BR", "thank_you_other"),
        (None, "thank_you_other"),
    ],
)
def test_post_purchase_splits_on_language_then_waits_for_office_hours(
    language: str | None, step_id: str
) -> None:
    # given the post-purchase campaign
    definition = POST_PURCHASE.definition
    # when a contact with that language walks it
    thank_you = route(definition, definition.entry_step, Facts(language=language))
    wait = follow(definition, thank_you)
    delay = wait and follow(definition, wait)
    # then its language's thank-you (transactional) comes first, then the next weekday
    # 09:00-17:00, then two days
    assert thank_you.id == step_id
    assert isinstance(thank_you, SendEmailStep)
    assert thank_you.design == "post_purchase"
    assert thank_you.transactional
    assert isinstance(wait, WaitUntilStep)
    assert wait.weekdays == ("mon", "tue", "wed", "thu", "fri")
    assert (wait.window_start, wait.window_end, wait.at) == (time(9), time(17), None)
    assert isinstance(delay, DelayStep)
    assert delay.seconds == 2 * DAY
    assert delay.next == "cross_sell_check"


def test_post_purchase_has_one_branch_per_language_and_a_default() -> None:
    # given the language split
    split = POST_PURCHASE.definition.step("by_language")
    assert isinstance(split, SplitStep)
    # then it has the five languages in order, each matching its regional variants, and a default
    conditions = [branch.condition for branch in split.branches]
    assert conditions == [
        ContactFieldPredicate(field="language", op="eq", value=language, match_subtags=True)
        for language in LANGUAGES
    ]
    assert split.default_next == "thank_you_other"


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ([], "cross_sell"),
        ([MessageRecord(Channel.EMAIL, NOW - timedelta(days=3), "cross-sell")], "cross_sell"),
        ([MessageRecord(Channel.EMAIL, NOW - timedelta(hours=30), "newsletter")], "cross_sell"),
        ([MessageRecord(Channel.SMS, NOW - timedelta(hours=5), "cross-sell")], "cross_sell"),
        (
            [MessageRecord(Channel.EMAIL, NOW - timedelta(hours=30), "cross-sell")],
            "already_cross_sold",
        ),
    ],
)
def test_post_purchase_cross_sells_unless_one_was_received_in_two_days(
    received: list[MessageRecord], expected: str
) -> None:
    # given a contact with that message history
    definition = POST_PURCHASE.definition
    # when it reaches the check
    step = route(definition, "cross_sell_check", Facts(messages=received))
    # then it gets the cross-sell (marketing, category cross-sell) or leaves
    assert step.id == expected
    if isinstance(step, SendEmailStep):
        assert (step.design, step.category, step.transactional) == (
            "cross_sell",
            "cross-sell",
            False,
        )
        assert follow(definition, step) is None
    else:
        assert isinstance(step, ExitStep)


def test_post_purchase_enters_on_every_order() -> None:
    definition = POST_PURCHASE.definition
    assert definition.trigger == EventTrigger(events=("order.placed",))
    assert definition.repeatability is Repeatability.MULTIPLE
    assert definition.exit_rules == ()


@pytest.mark.parametrize("orders", [0, 1, 2, 7])
def test_exactly_one_welcome_campaign_admits_a_contact(orders: int) -> None:
    # given a contact who signs up with that many orders
    facts = Facts(orders_count=orders)
    admitted = {
        template.key
        for template in (WELCOME_PROSPECT, WELCOME_CUSTOMER)
        if template.definition.entry_filter is not None
        and evaluate(template.definition.entry_filter, facts, NOW)
    }
    # then prospects get the code, customers the thank-you
    assert admitted == {"welcome_prospect" if orders == 0 else "welcome_customer"}


def test_welcome_campaigns_start_on_sign_up_or_subscription_once() -> None:
    for template in (WELCOME_PROSPECT, WELCOME_CUSTOMER):
        definition = template.definition
        assert definition.trigger == EventTrigger(
            events=("customer.signed_up", "newsletter.subscribed")
        )
        assert definition.repeatability is Repeatability.ONCE
        assert definition.category == "welcome"
    assert WELCOME_PROSPECT.definition.exit_rules == (ExitOnEvent(event="order.placed"),)


@pytest.mark.parametrize(("orders", "last"), [(0, "reminder"), (1, "already_customer")])
def test_welcome_prospect_gives_a_code_then_reminds_those_still_without_an_order(
    orders: int, last: str
) -> None:
    # given the prospects' welcome
    definition = WELCOME_PROSPECT.definition
    # when a contact walks it and has that many orders a week later
    code = definition.step(definition.entry_step)
    welcome = follow(definition, code)
    wait = welcome and follow(definition, welcome)
    assert isinstance(wait, DelayStep)
    after = route(definition, "ordered_yet", Facts(orders_count=orders))
    # then: a 10 % code valid 30 days, the welcome, 7 days, and the reminder only without an order
    assert isinstance(code, CreateDiscountStep)
    assert (code.kind, code.value, code.valid_days, code.prefix) == (
        "percentage",
        Decimal(10),
        30,
        "WELCOME",
    )
    assert isinstance(welcome, SendEmailStep)
    assert welcome.design == "welcome_prospect"
    assert wait.seconds == 7 * DAY
    assert after.id == last
    if isinstance(after, SendEmailStep):
        assert after.design == "welcome_reminder"
        assert follow(definition, after) is None
    else:
        assert isinstance(after, ExitStep)


def test_welcome_customer_sends_one_thank_you_without_a_code() -> None:
    definition = WELCOME_CUSTOMER.definition
    assert [step.design for step in send_steps(definition)] == ["welcome_customer"]
    assert not any(isinstance(step, CreateDiscountStep) for step in definition.steps)
    assert follow(definition, definition.step(definition.entry_step)) is None
