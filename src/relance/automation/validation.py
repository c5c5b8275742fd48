"""Pure validation of campaign definitions: every violation at once, each with a path.

Parsing (:class:`~relance.automation.definitions.CampaignDefinition`) checks shapes and ranges;
:func:`validate` checks what makes a parsed definition publishable. Each :class:`Violation`
names the offending field by a dotted path into the definition's JSON form
(``steps.3.branches.1.next``, ``trigger.where.conditions.0.value``) and a stable code:

=====================  ===================================================================
``too_many_steps``     more than :data:`~relance.automation.definitions.MAX_STEPS` steps
``duplicate_id``       a step id used twice (at the second one's ``id``)
``unknown_step``       ``entry_step`` or a link names no step
``unreachable``        no path from ``entry_step`` reaches the step
``cycle``              a link closes a loop, so some path never ends (at that link)
``no_default``         a ``split`` without ``default_next``
``invalid_weights``    a ``random_split``'s weights cannot split (see cohorts)
``invalid_window``     a ``wait_until`` with both ``at`` and a window, or half a window
``unknown_event``      an event name that is neither a known event nor ``custom.<name>``
``unknown_design``     a ``send_email`` design that does not exist
``missing_language``   a design or text lacks the default language or a listed language
``unknown_list``       a list id no list has (only when ``lists`` is given)
``no_test_emails``     test mode on with an empty test list (nobody could enter)
``too_deep``, ``too_many_predicates``, ``empty_group``: a condition's, see
:func:`~relance.automation.conditions.condition_violations`
=====================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from relance.automation.cohorts import weight_violations
from relance.automation.conditions import Condition, condition_violations
from relance.automation.definitions import (
    MAX_STEPS,
    CampaignDefinition,
    EventTrigger,
    ExitOnCondition,
    ExitOnEvent,
    ListAction,
    ListTrigger,
    RandomSplitStep,
    SendEmailStep,
    SendPushStep,
    SendSmsStep,
    SplitStep,
    UpdateContactStep,
    WaitUntilStep,
    successors,
)
from relance.automation.events import EventType

#: Prefix of merchant-defined event names (``custom.wishlist_shared``).
CUSTOM_EVENT_PREFIX = "custom."
_KNOWN_EVENTS = frozenset(event.value for event in EventType)


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with a definition. ``path`` points at the offending field (``steps.2.next``)."""

    path: str
    code: str
    message: str


def validate(
    definition: CampaignDefinition,
    designs: Mapping[str, Collection[str]],
    *,
    lists: Collection[str] | None = None,
) -> list[Violation]:
    """Every violation of ``definition``; an empty list means it may be published. Pure.

    Parameters:
        definition(CampaignDefinition): a parsed definition (a draft may be half-built).
        designs(Mapping[str, Collection[str]]): each existing email design's name → the
            languages it exists in (BCP 47 tags, compared case-insensitively).
        lists(Collection[str] | None): the store's list ids, to refuse unknown ones in list
            triggers, list actions and conditions; ``None`` skips that check.

    Returns:
        list[Violation]: in document order (campaign fields, then steps, then graph rules).
    """
    known_lists = None if lists is None else frozenset(lists)
    violations: list[Violation] = []
    violations += _campaign_violations(definition, known_lists)
    for index in range(len(definition.steps)):
        violations += _step_violations(definition, index, designs, known_lists)
    violations += _graph_violations(definition)
    return violations


# --- campaign-level fields -----------------------------------------------------------------


def _campaign_violations(
    definition: CampaignDefinition, known_lists: frozenset[str] | None
) -> list[Violation]:
    found: list[Violation] = []
    trigger = definition.trigger
    if isinstance(trigger, EventTrigger):
        for index, event in enumerate(trigger.events):
            found += _event_name(event, f"trigger.events.{index}")
        found += _condition(trigger.where, "trigger.where", known_lists)
    elif isinstance(trigger, ListTrigger):
        found += _list_id(trigger.list_id, "trigger.list_id", known_lists)
    found += _condition(definition.entry_filter, "entry_filter", known_lists)
    if definition.test_mode and not definition.test_emails:
        message = "test mode is on but the test list is empty: nobody could enter"
        found.append(Violation("test_emails", "no_test_emails", message))
    for index, rule in enumerate(definition.exit_rules):
        if isinstance(rule, ExitOnEvent):
            found += _event_name(rule.event, f"exit_rules.{index}.event")
            found += _condition(rule.where, f"exit_rules.{index}.where", known_lists)
        elif isinstance(rule, ExitOnCondition):
            found += _condition(rule.condition, f"exit_rules.{index}.condition", known_lists)
    return found


def _event_name(event: str, path: str) -> list[Violation]:
    if event in _KNOWN_EVENTS or (
        event.startswith(CUSTOM_EVENT_PREFIX) and len(event) > len(CUSTOM_EVENT_PREFIX)
    ):
        return []
    message = f"unknown event {event!r}: use a known event or custom.<name>"
    return [Violation(path, "unknown_event", message)]


def _condition(
    condition: Condition | None, path: str, known_lists: frozenset[str] | None
) -> list[Violation]:
    if condition is None:
        return []
    return condition_violations(condition, path, known_lists=known_lists)


def _list_id(list_id: str, path: str, known_lists: frozenset[str] | None) -> list[Violation]:
    if known_lists is None or list_id in known_lists:
        return []
    return [Violation(path, "unknown_list", f"no list has id {list_id!r}")]


# --- one step ------------------------------------------------------------------------------


def _step_violations(
    definition: CampaignDefinition,
    index: int,
    designs: Mapping[str, Collection[str]],
    known_lists: frozenset[str] | None,
) -> list[Violation]:
    step = definition.steps[index]
    at = f"steps.{index}"
    found: list[Violation] = []
    match step:
        case SendEmailStep():
            found += _design(definition, step.design, f"{at}.design", designs)
        case SendSmsStep():
            found += _texts(definition, step.text, f"{at}.text")
        case SendPushStep():
            found += _texts(definition, step.title, f"{at}.title")
            found += _texts(definition, step.body, f"{at}.body")
        case WaitUntilStep():
            found += _window(step, at)
        case SplitStep():
            for number, branch in enumerate(step.branches):
                path = f"{at}.branches.{number}.condition"
                found += _condition(branch.condition, path, known_lists)
            if step.default_next is None:
                message = "a split needs a default_next (point it at an exit step to end there)"
                found.append(Violation(f"{at}.default_next", "no_default", message))
        case RandomSplitStep():
            found += weight_violations([b.weight for b in step.branches], f"{at}.branches")
        case UpdateContactStep():
            for number, action in enumerate(step.actions):
                if isinstance(action, ListAction):
                    path = f"{at}.actions.{number}.list_id"
                    found += _list_id(action.list_id, path, known_lists)
        case _:
            pass
    return found


def _design(
    definition: CampaignDefinition,
    design: str,
    path: str,
    designs: Mapping[str, Collection[str]],
) -> list[Violation]:
    if design not in designs:
        return [Violation(path, "unknown_design", f"no design is named {design!r}")]
    return _languages(definition, designs[design], path, f"design {design!r}")


def _texts(definition: CampaignDefinition, texts: Mapping[str, str], path: str) -> list[Violation]:
    return _languages(definition, texts.keys(), path, "the text")


def _languages(
    definition: CampaignDefinition, present: Iterable[str], path: str, what: str
) -> list[Violation]:
    """A violation for the default language and each listed language ``present`` lacks."""
    have = {language.lower() for language in present}
    found: list[Violation] = []
    wanted = dict.fromkeys([definition.default_language, *definition.languages])
    for language in wanted:
        if language.lower() not in have:
            role = "default language" if language == definition.default_language else "language"
            message = f"{what} has no {role} {language!r} version"
            found.append(Violation(path, "missing_language", message))
    return found


def _window(step: WaitUntilStep, at: str) -> list[Violation]:
    start, end = step.window_start, step.window_end
    if step.at is not None and (start is not None or end is not None):
        message = "wait until a time of day (at) or within a window, not both"
        return [Violation(f"{at}.at", "invalid_window", message)]
    if (start is None) != (end is None):
        missing = "window_end" if end is None else "window_start"
        message = "a window needs both window_start and window_end"
        return [Violation(f"{at}.{missing}", "invalid_window", message)]
    return []


# --- the graph -----------------------------------------------------------------------------


def _graph_violations(definition: CampaignDefinition) -> list[Violation]:
    """Step count, ids, links, reachability and cycles (so that every path ends)."""
    found: list[Violation] = []
    if len(definition.steps) > MAX_STEPS:
        message = f"at most {MAX_STEPS} steps are allowed, found {len(definition.steps)}"
        found.append(Violation("steps", "too_many_steps", message))
    index_of: dict[str, int] = {}
    for index, step in enumerate(definition.steps):
        if step.id in index_of:
            message = f"step id {step.id!r} is already used by steps.{index_of[step.id]}"
            found.append(Violation(f"steps.{index}.id", "duplicate_id", message))
        index_of.setdefault(step.id, index)
    if definition.entry_step not in index_of:
        message = f"no step has id {definition.entry_step!r}"
        found.append(Violation("entry_step", "unknown_step", message))
    # links[i]: (path of the link, index of its target) for the known targets of steps.i
    links: dict[int, list[tuple[str, int]]] = {}
    for index, step in enumerate(definition.steps):
        links[index] = []
        for field, target in successors(step):
            if target is None:
                continue
            path = f"steps.{index}.{field}"
            if target not in index_of:
                found.append(Violation(path, "unknown_step", f"no step has id {target!r}"))
            else:
                links[index].append((path, index_of[target]))
    reachable = _reachable(index_of.get(definition.entry_step), links)
    for index, step in enumerate(definition.steps):
        if index not in reachable and index_of[step.id] == index:
            message = f"step {step.id!r} is never reached from the entry step"
            found.append(Violation(f"steps.{index}", "unreachable", message))
    found += _cycles(definition, links, index_of.get(definition.entry_step))
    return found


def _reachable(entry: int | None, links: Mapping[int, list[tuple[str, int]]]) -> set[int]:
    seen: set[int] = set()
    stack = [] if entry is None else [entry]
    while stack:
        index = stack.pop()
        if index not in seen:
            seen.add(index)
            stack.extend(target for _path, target in links[index])
    return seen


def _cycles(
    definition: CampaignDefinition, links: Mapping[int, list[tuple[str, int]]], entry: int | None
) -> list[Violation]:
    """One ``cycle`` violation per link that closes a loop (a back edge of a depth-first walk
    from the entry step, then from every step left unvisited)."""
    found: list[Violation] = []
    state: dict[int, str] = {}  # "open" while on the walk's path, "done" after
    starts = ([] if entry is None else [entry]) + list(links)
    for start in starts:
        if start in state:
            continue
        state[start] = "open"
        stack = [(start, iter(links[start]))]
        while stack:
            index, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                state[index] = "done"
                stack.pop()
                continue
            path, target = following
            if state.get(target) == "open":
                step_id = definition.steps[target].id
                message = f"this link loops back to step {step_id!r}: some path never ends"
                found.append(Violation(path, "cycle", message))
            elif target not in state:
                state[target] = "open"
                stack.append((target, iter(links[target])))
    return found
