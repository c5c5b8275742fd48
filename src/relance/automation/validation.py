"""Pure validation of campaign definitions: every violation at once, each with a path."""

from __future__ import annotations

from dataclasses import dataclass

from relance.automation.definitions import MAX_STEPS, CampaignDefinition, ExitStep


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with a definition. ``path`` points at the offending field (``steps.2.next``)."""

    path: str
    code: str
    message: str


def validate(definition: CampaignDefinition, known_designs: frozenset[str]) -> list[Violation]:
    """Every violation of ``definition``; an empty list means it may be published.

    Checks: at most :data:`MAX_STEPS` steps, unique ids, links to existing steps, designs that
    exist, every step reachable from the entry, and no cycle (so every path ends).
    """
    violations: list[Violation] = []
    if len(definition.steps) > MAX_STEPS:
        violations.append(
            Violation("steps", "too_many_steps", f"at most {MAX_STEPS} steps are allowed")
        )
    ids: dict[str, int] = {}
    for index, step in enumerate(definition.steps):
        if step.id in ids:
            violations.append(
                Violation(f"steps.{index}.id", "duplicate_id", f"step id {step.id!r} is used twice")
            )
        ids.setdefault(step.id, index)
    if definition.entry_step not in ids:
        violations.append(
            Violation("entry_step", "unknown_step", f"no step has id {definition.entry_step!r}")
        )
    edges: dict[str, str | None] = {}
    for index, step in enumerate(definition.steps):
        nxt = None if isinstance(step, ExitStep) else step.next
        if nxt is not None and nxt not in ids:
            violations.append(
                Violation(f"steps.{index}.next", "unknown_step", f"no step has id {nxt!r}")
            )
            nxt = None
        edges[step.id] = nxt
        design = getattr(step, "design", None)
        if design is not None and design not in known_designs:
            violations.append(
                Violation(f"steps.{index}.design", "unknown_design", f"no design {design!r}")
            )
    reachable: list[str] = []
    current: str | None = definition.entry_step if definition.entry_step in ids else None
    while current is not None and current not in reachable:
        reachable.append(current)
        current = edges.get(current)
    if current is not None:
        violations.append(
            Violation(f"steps.{ids[current]}.next", "cycle", f"step {current!r} is reached twice")
        )
    for step_id, index in ids.items():
        if step_id not in reachable:
            violations.append(
                Violation(f"steps.{index}", "unreachable", f"step {step_id!r} is never reached")
            )
    return violations
