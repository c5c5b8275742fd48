"""The design library: email designs as folders of files, one folder per design.

Layout of a design folder ``<root>/<design>/``::

    design.json        {"name": "...", "subjects": {"en": "...", "fr": "...", ...}}
    <language>.mjml    the HTML body, MJML with Jinja2 expressions (see compiler.py)
    <language>.txt     the plain-text alternative, Jinja2

A language is *available* only when all three parts exist for it. A design's *version* is a short
sha256 of every file in its folder, so any edit yields a new version, and compiled output cached
under (design, version, language) is never served once its files changed. A folder's
(name, size, mtime) listing is taken again at most every ``recheck_after`` seconds (0: on every
call), and files are re-read only when that listing changed; otherwise answers come from memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from relance.templates.errors import DesignNotFound, TemplateRenderError

#: The designs shipped with relance.
PACKAGED_DESIGNS = Path(__file__).resolve().parent / "designs"

_DESIGN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_MANIFEST = "design.json"

_Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class DesignSource:
    """The three parts of one language of one design, as written (not yet compiled), and the
    version of the design they belong to."""

    mjml: str
    text: str
    subject: str
    version: str


@dataclass(frozen=True, slots=True)
class _Snapshot:
    signature: _Signature
    version: str
    sources: dict[str, DesignSource]
    checked_at: float


class DesignLibrary:
    """Designs read from ``root`` (default: the packaged ``designs/`` folder). Thread-safe.

    Edits to a design's files are seen at most ``recheck_after`` seconds later.
    """

    def __init__(self, root: Path | None = None, *, recheck_after: float = 1.0) -> None:
        self.root = root if root is not None else PACKAGED_DESIGNS
        self.recheck_after = recheck_after
        self._lock = threading.Lock()
        self._snapshots: dict[str, _Snapshot] = {}

    def known_designs(self) -> frozenset[str]:
        """Names of the sub-folders of ``root`` that hold a ``design.json``."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return frozenset()
        return frozenset(
            entry.name
            for entry in entries
            if _DESIGN_NAME.fullmatch(entry.name)
            and entry.is_dir()
            and (Path(entry.path) / _MANIFEST).is_file()
        )

    def languages(self, design: str) -> frozenset[str]:
        """Languages with an MJML body, a text body and a subject. Never empty."""
        return frozenset(self._snapshot(design).sources)

    def version(self, design: str) -> str:
        """12 hex digits of the sha256 of the design's files: changes whenever any file does."""
        return self._snapshot(design).version

    def source(self, design: str, language: str) -> DesignSource:
        """The parts of ``language`` (an exact tag of :meth:`languages`)."""
        sources = self._snapshot(design).sources
        if language not in sources:
            raise DesignNotFound(f"design {design!r} has no language {language!r}")
        return sources[language]

    def _snapshot(self, design: str) -> _Snapshot:
        now = time.monotonic()
        cached = self._snapshots.get(design)
        if cached is not None and now - cached.checked_at < self.recheck_after:
            return cached
        folder = self._folder(design)
        signature = _signature(folder)
        with self._lock:
            cached = self._snapshots.get(design)
            if cached is None or cached.signature != signature:
                cached = _load(design, folder, signature, now)
            else:
                cached = replace(cached, checked_at=now)
            self._snapshots[design] = cached
            return cached

    def _folder(self, design: str) -> Path:
        if not _DESIGN_NAME.fullmatch(design):
            raise DesignNotFound(f"no design named {design!r}")
        folder = self.root / design
        if not (folder / _MANIFEST).is_file():
            raise DesignNotFound(f"no design named {design!r}")
        return folder


def _signature(folder: Path) -> _Signature:
    """(name, size, mtime) of every visible regular file: cheap to take, changes with any edit."""
    listing = []
    for entry in os.scandir(folder):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        stat = entry.stat()
        listing.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(listing))


def _load(design: str, folder: Path, signature: _Signature, checked_at: float) -> _Snapshot:
    digest = hashlib.sha256()
    contents: dict[str, str] = {}
    for name, _size, _mtime in signature:
        data = (folder / name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
        try:
            contents[name] = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TemplateRenderError(f"design {design!r}: {name} is not UTF-8") from exc
    subjects = _subjects(design, contents.get(_MANIFEST, ""))
    version = digest.hexdigest()[:12]
    sources = {
        language: DesignSource(
            mjml=contents[f"{language}.mjml"],
            text=contents[f"{language}.txt"],
            subject=subject,
            version=version,
        )
        for language, subject in subjects.items()
        if f"{language}.mjml" in contents and f"{language}.txt" in contents
    }
    if not sources:
        raise DesignNotFound(f"design {design!r} has no language with MJML, text and subject")
    return _Snapshot(signature=signature, version=version, sources=sources, checked_at=checked_at)


def _subjects(design: str, manifest: str) -> dict[str, str]:
    try:
        data = json.loads(manifest)
        subjects = data["subjects"]
    except (ValueError, TypeError, KeyError) as exc:
        raise TemplateRenderError(f"design {design!r}: invalid {_MANIFEST}") from exc
    if not isinstance(subjects, dict) or not all(
        isinstance(tag, str) and _LANGUAGE_TAG.fullmatch(tag) and isinstance(text, str)
        for tag, text in subjects.items()
    ):
        raise TemplateRenderError(f"design {design!r}: subjects must map language tags to text")
    return subjects
