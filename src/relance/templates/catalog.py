"""The design library as validation reads it: design name → the languages it exists in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from relance.templates.errors import TemplatesError


class DesignSource(Protocol):
    """What of :class:`relance.templates.library.DesignLibrary` validation needs."""

    def known_designs(self) -> frozenset[str]: ...

    def languages(self, design: str) -> frozenset[str]: ...


class DesignLanguages(Mapping[str, frozenset[str]]):
    """``library``'s designs, each mapped to its languages, read lazily: validating a
    definition reads only the designs it uses. A design whose files are broken has no language
    (validation then reports the languages it lacks). Blocking (reads folders): build and use it
    in a worker thread."""

    def __init__(self, library: DesignSource) -> None:
        self._library = library
        self._names = library.known_designs()

    def __getitem__(self, design: str) -> frozenset[str]:
        if design not in self._names:
            raise KeyError(design)
        try:
            return self._library.languages(design)
        except TemplatesError:
            return frozenset()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)
