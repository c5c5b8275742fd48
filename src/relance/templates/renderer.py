"""Rendering a design for one contact: compile once per version and language, personalise per call.

The expensive part — MJML to HTML with inlined CSS, then parsing the Jinja2 of the HTML, text and
subject — happens once per (design, version, language) and is cached; a new version of a design
replaces its cached entry. Each :meth:`EmailRenderer.render` call only resolves the language and
runs three compiled Jinja2 templates.

Jinja2 runs sandboxed (templates may read the context, never call into Python internals or mutate
it). The HTML is autoescaped; the subject and the text part are not (they are not HTML, and an
escaped subject would show ``&amp;``). Missing values render as empty strings (``None`` too), and
attribute access on a missing value stays missing, so ``order.lines`` is simply empty without an
order. Filters ``money``, ``date`` and ``number`` format for the resolved language (formatting.py).

The subject is always one line (line breaks and runs of spaces collapse, no-break spaces stay).
Text parts use ``trim_blocks``/``lstrip_blocks``: a line holding only ``{% … %}`` vanishes, and a
block tag ending a line swallows that line's newline — end such lines with text or ``{{ … }}``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relance.templates.compiler import compile_mjml
from relance.templates.errors import TemplateRenderError
from relance.templates.formatting import filters
from relance.templates.library import DesignLibrary
from relance.templates.locales import resolve_language


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One personalised email. ``subject`` is a single line; ``language`` is the variant used."""

    subject: str
    html: str
    text: str
    language: str
    design_version: str


@dataclass(frozen=True, slots=True)
class _Compiled:
    version: str
    subject: Template
    html: Template
    text: Template


#: Line breaks, tabs and runs of spaces in a subject; no-break spaces are kept (``n°\u00a010``).
_SUBJECT_SPACE = re.compile(r"[^\S\u00a0\u202f]+")


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _environment(language: str, *, html: bool) -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(
        autoescape=html,
        undefined=ChainableUndefined,
        finalize=_blank_none,
        trim_blocks=not html,
        lstrip_blocks=not html,
        keep_trailing_newline=not html,
        auto_reload=False,
    )
    environment.filters.update(filters(language))
    return environment


class EmailRenderer:
    """Renders designs of ``library``. Thread-safe; share one per process."""

    def __init__(self, library: DesignLibrary) -> None:
        self.library = library
        self._lock = threading.Lock()
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def render(
        self,
        design: str,
        *,
        language: str | None,
        default_language: str,
        context: Mapping[str, Any],
    ) -> RenderedEmail:
        """Render ``design`` in the best language for ``language`` (see :func:`resolve_language`).

        ``context`` holds ``contact`` {email, first_name, last_name, language}, ``store`` {name}
        and, for order messages, ``order`` (an OrderSnapshot's JSON). Raises
        :class:`DesignNotFound` or :class:`TemplateRenderError`.
        """
        chosen = resolve_language(language, self.library.languages(design), default_language)
        compiled = self._compiled_for(design, chosen)
        values = dict(context)
        try:
            subject = _SUBJECT_SPACE.sub(" ", compiled.subject.render(values)).strip()
            html = compiled.html.render(values)
            text = compiled.text.render(values)
        except TemplateError as exc:
            raise TemplateRenderError(f"design {design!r} ({chosen}): {exc}") from exc
        except Exception as exc:
            raise TemplateRenderError(
                f"design {design!r} ({chosen}): {type(exc).__name__} while rendering"
            ) from exc
        return RenderedEmail(
            subject=subject, html=html, text=text, language=chosen, design_version=compiled.version
        )

    def _compiled_for(self, design: str, language: str) -> _Compiled:
        version = self.library.version(design)
        cached = self._compiled.get((design, language))
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            cached = self._compiled.get((design, language))
            if cached is None or cached.version != version:
                cached = self._compile(design, language)
                self._compiled[(design, language)] = cached
            return cached

    def _compile(self, design: str, language: str) -> _Compiled:
        source = self.library.source(design, language)  # carries its own version: no race
        html_environment = _environment(language, html=True)
        text_environment = _environment(language, html=False)
        try:
            return _Compiled(
                version=source.version,
                subject=text_environment.from_string(source.subject),
                html=html_environment.from_string(compile_mjml(source.mjml)),
                text=text_environment.from_string(source.text),
            )
        except TemplateError as exc:
            raise TemplateRenderError(f"design {design!r} ({language}): {exc}") from exc
