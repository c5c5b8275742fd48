"""Rendering short plain-text templates of a campaign step (SMS text, push title and body).

Same Jinja2 set-up as the emails' text part (:mod:`relance.templates.renderer`): sandboxed,
not autoescaped (the result is not HTML), missing values render empty, and the ``money``,
``date`` and ``number`` filters format for the language. Compiled templates are cached by
(source, language): a campaign version's texts never change, so the cache needs no invalidation.

``strict=True`` (webhook URLs, headers and bodies: an empty field sent to another system is worse
than no call) makes *printing* a missing value, or passing it to ``tojson``, an error naming it;
testing it (``{% if discount %}``, ``is defined``), looping over it (no iterations) and
``default(…)`` still work. ``tojson`` (Jinja2's) writes JSON for bodies such as
``{"lines": {{ order.lines | tojson }}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relance.templates.errors import TemplateRenderError
from relance.templates.renderer import _environment


class _StrictUndefined(ChainableUndefined):
    """Missing, and an error when printed (attribute chains, tests and loops still work)."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()


def _strict_json_default(value: Any) -> Any:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@lru_cache(maxsize=64)
def _text_environment(language: str, strict: bool = False) -> ImmutableSandboxedEnvironment:
    environment = _environment(language, html=False)
    if strict:
        environment.undefined = _StrictUndefined
        environment.policies["json.dumps_kwargs"] = {
            "sort_keys": True,
            "default": _strict_json_default,
        }
    return environment


@lru_cache(maxsize=1024)
def _compiled(source: str, language: str, strict: bool = False) -> Template:
    return _text_environment(language, strict).from_string(source)


def render_text(
    template: str, context: Mapping[str, Any], language: str, *, strict: bool = False
) -> str:
    """``template`` rendered with ``context``, formatted for ``language``; leading and trailing
    whitespace removed. Raises :class:`TemplateRenderError` (syntax error, sandbox refusal, and
    with ``strict`` a missing value printed)."""
    try:
        return _compiled(template, language, strict).render(dict(context)).strip()
    except TemplateError as exc:
        raise TemplateRenderError(f"text ({language}): {exc}") from exc
    except Exception as exc:
        raise TemplateRenderError(
            f"text ({language}): {type(exc).__name__} while rendering"
        ) from exc
