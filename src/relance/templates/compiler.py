"""MJML with Jinja2 inside → email-ready HTML that still holds the same Jinja2 blocks.

Neither MJML nor an HTML parser understands Jinja2: MRML (mjml-python) refuses ``<``, ``&`` or
quotes inside ``{{ … }}``, and css-inline's HTML5 parser moves any text found between table rows
(a ``{% for %}`` around ``<tr>``) out of the table. So before compiling, every Jinja2 tag is swapped
for a placeholder both tools leave alone, and swapped back afterwards:

- statements and comments (``{% … %}``, ``{# … #}``) become HTML comments, which MRML and
  HTML5 parsers keep in place even between table rows; they must therefore stand between tags,
  never inside a tag's attributes;
- expressions (``{{ … }}``) become an ``@@jinja:N@@`` token, plain ASCII that both tools copy
  unchanged in text and inside attribute values.

Loops over table rows should sit inside an explicit ``<tbody>``: the HTML parser adds a missing
one *after* a leading comment, which would leave ``{% for %}`` outside it and ``{% endfor %}``
inside.

Invariant: the result contains every Jinja2 tag of the source, byte for byte and in the same
order; if MJML or the inliner dropped, duplicated or reordered one, :class:`TemplateRenderError`
is raised instead of returning a template that would render differently from its source.

The CSS of ``<mj-style>`` and MJML's own rules is inlined into ``style`` attributes (for clients
that strip ``<style>``) and also kept in ``<style>`` blocks (for media queries). An inlined rule
beats a media query unless the media query says ``!important``.
"""

from __future__ import annotations

import re

import css_inline
import mjml

from relance.templates.errors import TemplateRenderError

_JINJA_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}|\{\{.*?\}\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"<!--jinja:(\d+)-->|@@jinja:(\d+)@@")

_INLINER = css_inline.CSSInliner(
    keep_style_tags=True,
    keep_link_tags=True,
    load_remote_stylesheets=False,
)


def compile_mjml(source: str) -> str:
    """Compile MJML to HTML with inlined CSS, keeping its Jinja2 tags intact (see module doc)."""
    if _PLACEHOLDER.search(source):
        raise TemplateRenderError("MJML source contains a reserved @@jinja:N@@ placeholder")
    tags: list[str] = []

    def protect(match: re.Match[str]) -> str:
        tags.append(match.group(0))
        index = len(tags) - 1
        if match.group(0).startswith("{{"):
            return f"@@jinja:{index}@@"
        return f"<!--jinja:{index}-->"

    protected = _JINJA_TAG.sub(protect, source)
    try:
        html = _INLINER.inline(mjml.mjml2html(protected, fonts={}))
    except ValueError as exc:
        raise TemplateRenderError(f"MJML cannot be compiled: {exc}") from exc
    seen: list[int] = []

    def restore(match: re.Match[str]) -> str:
        index = int(match.group(1) or match.group(2))
        seen.append(index)
        return tags[index]

    restored = _PLACEHOLDER.sub(restore, html)
    if seen != list(range(len(tags))):
        raise TemplateRenderError(
            "compiling moved or lost Jinja2 tags: keep {% %} between tags (not in attributes) "
            "and put text inside table cells"
        )
    return restored
