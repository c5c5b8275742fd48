"""Rendering short plain-text templates of a campaign step (SMS text, push title and body).

Same Jinja2 set-up as the emails' text part (:mod:`relance.templates.renderer`): sandboxed,
not autoescaped (the result is not HTML), missing values render empty, and the ``money``,
``date`` and ``number`` filters format for the language. Compiled templates are cached by
(source, language): a campaign version's texts never change, so the cache needs no invalidation.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relance.templates.errors import TemplateRenderError
from relance.templates.renderer import _environment


@lru_cache(maxsize=64)
def _text_environment(language: str) -> ImmutableSandboxedEnvironment:
    return _environment(language, html=False)


@lru_cache(maxsize=1024)
def _compiled(source: str, language: str) -> Template:
    return _text_environment(language).from_string(source)


def render_text(template: str, context: Mapping[str, Any], language: str) -> str:
    """``template`` rendered with ``context``, formatted for ``language``; leading and trailing
    whitespace removed. Raises :class:`TemplateRenderError` (syntax error, sandbox refusal…)."""
    try:
        return _compiled(template, language).render(dict(context)).strip()
    except TemplateError as exc:
        raise TemplateRenderError(f"text ({language}): {exc}") from exc
    except Exception as exc:
        raise TemplateRenderError(
            f"text ({language}): {type(exc).__name__} while rendering"
        ) from exc
