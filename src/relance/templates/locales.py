"""Choosing which language variant of a message a contact receives.

The chain is SPEC.md §5's: the requested BCP 47 tag, then each shorter prefix of it
(``pt-BR`` → ``pt``), then the default (and its prefixes), then — only when the default itself is
not available — the first available tag in sorted order, so the answer never depends on the
iteration order of ``available``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def resolve_language(requested: str | None, available: Iterable[str], default: str) -> str:
    """The best tag of ``available`` for a contact who asked for ``requested``.

    Invariants: the result is always one of ``available``, spelled as it is there; tags compare
    case-insensitively and ``_`` counts as ``-`` (``pt_br`` matches ``pt-BR``); the function is
    pure. Raises ``ValueError`` when ``available`` is empty.
    """
    tags = sorted(set(available))
    if not tags:
        raise ValueError("no language is available")
    by_key = {_key(tag): tag for tag in reversed(tags)}
    for candidate in (*_prefixes(requested), *_prefixes(default)):
        if candidate in by_key:
            return by_key[candidate]
    return tags[0]


def _key(tag: str) -> str:
    return tag.strip().replace("_", "-").lower()


def _prefixes(tag: str | None) -> Iterator[str]:
    """``zh-Hant-TW`` → ``zh-hant-tw``, ``zh-hant``, ``zh`` (normalised keys, longest first)."""
    if not tag or not tag.strip():
        return
    parts = _key(tag).split("-")
    for end in range(len(parts), 0, -1):
        yield "-".join(parts[:end])
