"""Rendering short plain-text templates: SMS bodies, a webhook's URL, headers, parameters and body.

:func:`render_text` uses the very environment of the email renderer's text part (sandboxed Jinja2,
*not* autoescaped, the ``money`` / ``date`` / ``number`` filters of the language, ``None`` printed
as the empty string, ``trim_blocks`` / ``lstrip_blocks``), with a ``tojson`` filter that writes
plain JSON — no HTML escaping, keys in their order, non-ASCII kept — for JSON bodies::

    {"email": {{ contact.email | tojson }}, "lines": {{ order.lines | tojson }}}

Missing values: by default they print as the empty string and ``tojson`` writes ``null``, as in
emails. With ``strict=True`` (webhooks: an empty field sent to another system is worse than no
call) *printing* a missing value, or passing it to ``tojson``, is an error; testing it
(``{% if discount %}``, ``is defined``), looping over it (no iterations) and ``default(…)`` still
work.

Compiled templates are cached per (language, strictness, source). Errors are
:class:`~relance.templates.errors.TemplateRenderError`, whose message names the problem and the
template line, never the context's values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NoReturn

from jinja2 import ChainableUndefined, Template, TemplateError, TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from relance.templates.errors import TemplateRenderError

# The email renderer's text-part environment, so SMS, webhooks and emails render alike.
from relance.templates.renderer import _environment

_TEMPLATE_CACHE_SIZE = 1024


class _StrictUndefined(ChainableUndefined):
    """Missing, and an error when printed (attribute chains, tests and loops still work)."""

    __slots__ = ()

    def __str__(self) -> str:
        self._fail_with_undefined_error()


def _json_default(strict: bool) -> Any:
    def default(value: Any) -> Any:
        if isinstance(value, Undefined):
            if strict:
                value._fail_with_undefined_error()
            return None
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    return default


def _tojson_filter(strict: bool) -> Any:
    default = _json_default(strict)

    def tojson(value: Any, indent: int | None = None) -> str:
        """Plain JSON of ``value`` (a missing value: ``null``, or an error when strict)."""
        if isinstance(value, Undefined):
            default(value)
            return "null"
        return json.dumps(value, ensure_ascii=False, indent=indent, default=default)

    return tojson


@lru_cache(maxsize=64)
def _text_environment(language: str, strict: bool) -> ImmutableSandboxedEnvironment:
    environment = _environment(language, html=False)
    if strict:
        environment.undefined = _StrictUndefined
    environment.filters["tojson"] = _tojson_filter(strict)
    return environment


@lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _compiled(template: str, language: str, strict: bool) -> Template:
    try:
        return _text_environment(language, strict).from_string(template)
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(f"line {exc.lineno}: {exc.message}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(str(exc)) from exc


def _fail(exc: Exception) -> NoReturn:
    if isinstance(exc, TemplateError):
        raise TemplateRenderError(str(exc) or type(exc).__name__) from exc
    # a filter refusing a value (money of a non-number…): name the error, not the value
    raise TemplateRenderError(f"{type(exc).__name__} while rendering") from exc


def render_text(
    template: str, context: Mapping[str, Any], language: str, *, strict: bool = False
) -> str:
    """Render ``template`` with ``context`` for ``language`` (formats of the ``money``, ``date``
    and ``number`` filters). Raises :class:`TemplateRenderError` (see the module docstring)."""
    compiled = _compiled(template, language, strict)
    try:
        return compiled.render(dict(context))
    except Exception as exc:
        _fail(exc)


def check_text(template: str) -> None:
    """Compile ``template`` only: raises :class:`TemplateRenderError` on a syntax error."""
    _compiled(template, "en", False)
