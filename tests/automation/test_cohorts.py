"""cohorts: random_split assignment is deterministic, proportional and stable."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relance.automation.cohorts import (
    MAX_BRANCHES,
    MAX_TOTAL_WEIGHT,
    choose_branch,
    weight_problems,
    weight_violations,
)
from relance.automation.validation import Violation

KEYS = [f"contact-{n}" for n in range(100_000)]


def reference_branch(contact: str, campaign: str, step: str, weights: Sequence[int]) -> int:
    """The algorithm exactly as the module docstring states it."""
    digest = hashlib.sha256(b"relance.random_split.v1")
    for part in (campaign, step, contact):
        data = part.encode()
        digest.update(len(data).to_bytes(4, "big") + data)
    point = int.from_bytes(digest.digest()[:8], "big")
    slot = point * sum(weights) >> 64
    cumulative = 0
    for index, weight in enumerate(weights):
        cumulative += weight
        if slot < cumulative:
            return index
    raise AssertionError("slot beyond the total")


def tolerance(n: int, share: float) -> float:
    """Six binomial standard deviations: a fair assignment stays inside (p ≈ 2e-9)."""
    return 6 * math.sqrt(n * share * (1 - share)) + 1


# --- determinism -----------------------------------------------------------------------------

GOLDEN = [
    (("contact-1", "campaign-1", "split", (1, 1)), 1),
    (("contact-2", "campaign-1", "split", (1, 1)), 1),
    (("c@x.fr", "cmp", "s1", (70, 30)), 1),
    (("", "", "", (1, 2, 3, 4)), 0),
    (("é🙂", "campagne", "étape", (1, 1, 1)), 1),
    (("contact-1", "campaign-1", "split", (9999, 1)), 0),
]


@pytest.mark.parametrize(("args", "expected"), GOLDEN)
def test_golden_assignments_never_change(
    args: tuple[str, str, str, tuple[int, ...]], expected: int
) -> None:
    # given inputs whose branch was recorded when version 1 of the algorithm shipped
    # when / then the same branch comes out (a change here reshuffles every running split)
    assert choose_branch(*args) == expected


def test_the_code_follows_the_documented_algorithm() -> None:
    # given many keys, campaigns, steps and weights
    cases = [(f"k{n}", f"camp{n % 7}", f"step{n % 3}", (1 + n % 5, 2, n % 4)) for n in range(3_000)]
    # when / then the module and the docstring's algorithm agree on each
    for contact, campaign, step, weights in cases:
        expected = reference_branch(contact, campaign, step, weights)
        assert choose_branch(contact, campaign, step, weights) == expected


def test_the_same_branch_in_another_process_with_another_hash_seed() -> None:
    # given assignments computed here
    here = [choose_branch(key, "campaign", "split", [1, 2, 3]) for key in KEYS[:200]]
    script = (
        "from relance.automation.cohorts import choose_branch\n"
        "print([choose_branch(f'contact-{n}', 'campaign', 'split', [1, 2, 3]) for n in range(200)])"
    )
    # when a fresh interpreter with a different str hash salt computes them
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    # then they are identical
    assert done.stdout.strip() == str(here)


def test_parts_do_not_run_into_each_other() -> None:
    # given two splits whose campaign and step ids concatenate to the same text
    # when the same contacts go through each
    first = [choose_branch(key, "ab", "c", [1, 1]) for key in KEYS[:64]]
    second = [choose_branch(key, "a", "bc", [1, 1]) for key in KEYS[:64]]
    # then they are assigned independently (the parts are length-prefixed, not concatenated)
    assert first != second


# --- proportions -----------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [(1, 1), (70, 30), (1, 2, 3, 4), (9_999, 1)])
def test_proportions_hold_over_100k_contacts(weights: tuple[int, ...]) -> None:
    # given 100,000 synthetic contacts
    # when each is assigned
    counts = Counter(choose_branch(key, "campaign-7", "split-a", weights) for key in KEYS)
    # then each branch receives its share, within six standard deviations
    total = sum(weights)
    for index, weight in enumerate(weights):
        share = weight / total
        assert abs(counts[index] - len(KEYS) * share) <= tolerance(len(KEYS), share), index


@settings(max_examples=15, deadline=None)
@given(
    weights=st.lists(st.integers(0, 1_600), min_size=2, max_size=6).filter(lambda w: sum(w) > 0),
    campaign=st.text(max_size=12),
)
def test_proportions_hold_for_any_weights(weights: list[int], campaign: str) -> None:
    # given any valid weights and campaign, and 10,000 contacts
    keys = KEYS[:10_000]
    # when each is assigned
    counts = Counter(choose_branch(key, campaign, "split", weights) for key in keys)
    # then zero-weight branches get nobody and the others their share
    total = sum(weights)
    for index, weight in enumerate(weights):
        share = weight / total
        if weight == 0:
            assert counts[index] == 0
        else:
            assert abs(counts[index] - len(keys) * share) <= tolerance(len(keys), share)


def test_two_splits_are_independent() -> None:
    # given two 50/50 splits in the same campaign, and 40,000 contacts
    keys = KEYS[:40_000]
    # when contacts go through both
    pairs = Counter(
        (choose_branch(key, "c", "first", [1, 1]), choose_branch(key, "c", "second", [1, 1]))
        for key in keys
    )
    # then each of the four combinations gets a quarter
    for cell in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        assert abs(pairs[cell] - len(keys) / 4) <= tolerance(len(keys), 0.25), cell


# --- stability -------------------------------------------------------------------------------

weight_lists = st.lists(st.integers(0, 1_000), min_size=2, max_size=8).filter(lambda w: sum(w) > 0)


@settings(max_examples=200)
@given(
    weights=weight_lists,
    position=st.integers(0, 8),
    contact=st.text(max_size=20),
    campaign=st.text(max_size=20),
)
def test_adding_a_zero_weight_branch_moves_nobody(
    weights: list[int], position: int, contact: str, campaign: str
) -> None:
    # given a split and a contact's branch in it
    before = choose_branch(contact, campaign, "split", weights)
    # when a paused (zero-weight) branch is inserted anywhere
    at = min(position, len(weights))
    widened = [*weights[:at], 0, *weights[at:]]
    after = choose_branch(contact, campaign, "split", widened)
    # then the contact stays in the same branch (its index shifts if the new one came before)
    assert weights[before] > 0
    assert after == (before + 1 if at <= before else before)


@settings(max_examples=200)
@given(weights=weight_lists, factor=st.integers(1, 9), contact=st.text(max_size=20))
def test_scaling_all_weights_moves_nobody(weights: list[int], factor: int, contact: str) -> None:
    # given a split, and the same split with every weight multiplied by one factor
    assume(sum(weights) * factor <= MAX_TOTAL_WEIGHT)
    scaled = [w * factor for w in weights]
    # when / then the contact's branch does not change
    assert choose_branch(contact, "c", "s", weights) == choose_branch(contact, "c", "s", scaled)


def test_shifting_a_boundary_moves_only_the_contacts_it_crosses() -> None:
    # given a 50/50 split that becomes 60/40, and 40,000 contacts
    keys = KEYS[:40_000]
    before = [choose_branch(key, "c", "s", [50, 50]) for key in keys]
    after = [choose_branch(key, "c", "s", [60, 40]) for key in keys]
    # when the assignments are compared
    moves = Counter((b, a) for b, a in zip(before, after, strict=True) if b != a)
    # then about a tenth moved, all from branch 1 to branch 0
    assert set(moves) == {(1, 0)}
    assert abs(moves[(1, 0)] - len(keys) / 10) <= tolerance(len(keys), 0.1)


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ([], "branches"),
        ([1], "branches"),
        ([1] * (MAX_BRANCHES + 1), "branches"),
        ([1, -1], "integers"),
        ([1, True], "integers"),
        ([1, 1.5], "integers"),
        ([0, 0], "add up"),
        ([MAX_TOTAL_WEIGHT, 1], "add up"),
    ],
)
def test_bad_weights_are_refused(weights: list[int], problem: str) -> None:
    # given weights that break a rule
    # when / then they are reported, and choosing a branch with them raises
    assert any(problem in p for p in weight_problems(weights))
    with pytest.raises(ValueError, match=problem):
        choose_branch("contact", "campaign", "split", weights)


@pytest.mark.parametrize("weights", [[1, 1], [0, 1], [MAX_TOTAL_WEIGHT - 1, 1], [1] * MAX_BRANCHES])
def test_edge_weights_are_accepted(weights: list[int]) -> None:
    assert weight_problems(weights) == []
    assert weights[choose_branch("contact", "campaign", "split", weights)] > 0


def test_weight_violations_carry_the_path() -> None:
    # given a split step with one branch only
    # when its weights are validated at publish time
    violations = weight_violations([3], "steps.4.weights")
    # then the problem is named at the step's field
    assert violations == [
        Violation("steps.4.weights", "invalid_weights", "a split has 2 to 20 branches")
    ]
    assert weight_violations([1, 1], "steps.4.weights") == []
