"""Deterministic weighted assignment for ``random_split`` steps.

A contact's branch is a pure function of (contact, campaign, step, weights): the same inputs give
the same branch in every process, on every machine and Python version, because the position is
derived from SHA-256 (never from ``hash()``, which is salted per process).

Algorithm (version 1; changing it reshuffles every running split, so never edit it in place —
add a version):

1. ``digest = sha256(b"relance.random_split.v1" + field(campaign_key) + field(step_id) +
   field(contact_key))`` where ``field(s)`` is ``len(utf8(s))`` as 4 big-endian bytes, then
   ``utf8(s)`` (length prefixes keep ``("ab", "c")`` and ``("a", "bc")`` apart).
2. ``point`` = the first 8 bytes of the digest as a big-endian integer, uniform in ``[0, 2**64)``.
3. With ``total = sum(weights)``, ``slot = point * total >> 64`` (uniform in ``[0, total)``), and
   the branch is the ``i`` whose cumulative range ``[w0 + … + w(i-1), w0 + … + wi)`` holds ``slot``.

Stability guaranteed by this design:

- The point depends on the contact, the campaign and the step only, never on the weights. Use the
  campaign's stable id (not a version id) so re-publishing keeps everyone in their branch.
- A zero-weight branch is never chosen, and adding or removing one (anywhere) moves nobody:
  every other branch keeps exactly its contacts (its index shifts if one is inserted before it).
- Scaling every weight by the same factor (``[1, 1]`` → ``[50, 50]``) moves nobody.
- Changing weights moves only contacts whose point lies between an old and a new boundary; e.g.
  ``[50, 50]`` → ``[60, 40]`` moves a tenth of the contacts, all from branch 1 to branch 0.
- Different steps (or campaigns) draw independent points, so two splits are uncorrelated.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relance.automation.validation import Violation

#: Fewest branches a split may have.
MIN_BRANCHES = 2
#: Most branches a split may have (zero-weight ones included).
MAX_BRANCHES = 20
#: Largest sum of weights: weights are shares of 10,000 at the finest (0.01 %).
MAX_TOTAL_WEIGHT = 10_000

_DOMAIN = b"relance.random_split.v1"


def choose_branch(contact_key: str, campaign_key: str, step_id: str, weights: Sequence[int]) -> int:
    """The index of the branch ``contact_key`` takes at split ``step_id`` of ``campaign_key``.

    Deterministic and stable as the module docstring states; the share of contacts sent to
    branch ``i`` is ``weights[i] / sum(weights)`` (to within 2**-64 per contact).

    Parameters:
        contact_key(str): the contact's stable id.
        campaign_key(str): the campaign's stable id (the same across its versions).
        step_id(str): the split step's id.
        weights(Sequence[int]): non-negative integers, one per branch (see :func:`weight_problems`).

    Returns:
        int: an index into ``weights`` whose weight is positive.

    Raises:
        ValueError: the weights break a rule of :func:`weight_problems`.

    Example:
        >>> choose_branch("contact-1", "campaign-1", "split", [1, 1]) in (0, 1)
        True
    """
    problems = weight_problems(weights)
    if problems:
        raise ValueError("; ".join(problems))
    bounds = list(accumulate(weights))
    slot = (_point(contact_key, campaign_key, step_id) * bounds[-1]) >> 64
    return bisect_right(bounds, slot)


def weight_problems(weights: Sequence[int]) -> list[str]:
    """Why ``weights`` cannot weigh a split (empty when they can).

    Rules: :data:`MIN_BRANCHES` to :data:`MAX_BRANCHES` weights; each an ``int`` (not a bool)
    ``≥ 0`` — zero pauses a branch; their sum between 1 and :data:`MAX_TOTAL_WEIGHT`.
    """
    problems: list[str] = []
    if not MIN_BRANCHES <= len(weights) <= MAX_BRANCHES:
        problems.append(f"a split has {MIN_BRANCHES} to {MAX_BRANCHES} branches")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        problems.append("weights are integers ≥ 0")
    elif not 1 <= sum(weights) <= MAX_TOTAL_WEIGHT:
        problems.append(f"weights add up to 1 … {MAX_TOTAL_WEIGHT}")
    return problems


def weight_violations(weights: Sequence[int], path: str) -> list[Violation]:
    """:func:`weight_problems` as publish-time violations (code ``invalid_weights``) at ``path``."""
    # Imported here: validation imports definitions, which will import this module.
    from relance.automation.validation import Violation

    return [Violation(path, "invalid_weights", problem) for problem in weight_problems(weights)]


def _point(contact_key: str, campaign_key: str, step_id: str) -> int:
    """The contact's position in ``[0, 2**64)`` for this split (algorithm version 1)."""
    digest = hashlib.sha256(_DOMAIN)
    for part in (campaign_key, step_id, contact_key):
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(4, "big") + data)
    return int.from_bytes(digest.digest()[:8], "big")
