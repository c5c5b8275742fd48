import re

import pytest

from relance.templates.compiler import compile_mjml
from relance.templates.errors import TemplateRenderError
from relance.templates.library import DesignLibrary

JINJA_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}|\{\{.*?\}\}", re.DOTALL)


def _in_order(needles: list[str], haystack: str) -> bool:
    position = 0
    for needle in needles:
        position = haystack.find(needle, position)
        if position < 0:
            return False
        position += len(needle)
    return True


@pytest.mark.parametrize("language", ["en", "fr", "de"])
def test_compiled_html_keeps_every_jinja_block_of_the_design(language: str) -> None:
    # given the packaged post-purchase design
    source = DesignLibrary().source("post_purchase", language).mjml
    tags = JINJA_TAG.findall(source)
    # when it is compiled to HTML
    html = compile_mjml(source)
    # then every Jinja tag is there, unchanged and in the same order
    assert len(tags) > 20
    assert _in_order(tags, html)
    assert "@@jinja" not in html
    assert "<!--jinja" not in html


def test_a_loop_over_table_rows_stays_inside_its_table_body() -> None:
    # given a row loop with expressions that MJML alone could not parse
    source = """<mjml><mj-body><mj-section><mj-column><mj-table><tbody>
      {% for line in lines %}<tr><td title="{{ line.alt or "none" }}">{{ a < b and c }}</td></tr>
      {% endfor %}</tbody></mj-table></mj-column></mj-section></mj-body></mjml>"""
    # when compiled
    html = compile_mjml(source)
    # then the loop wraps the rows, inside the table body
    assert re.search(r"<tbody>\s*\{% for line in lines %\}<tr>", html)
    assert re.search(r"</tr>\s*\{% endfor %\}</tbody>", html)
    assert '{{ line.alt or "none" }}' in html
    assert "{{ a < b and c }}" in html


def test_css_from_mj_style_is_inlined_and_media_queries_are_kept() -> None:
    # given a class rule and a media query
    source = """<mjml><mj-head><mj-style>.price { color: #123456; }
      @media (max-width: 480px) { .price { color: red !important; } }</mj-style></mj-head>
      <mj-body><mj-section><mj-column><mj-text><span class="price">9</span></mj-text>
      </mj-column></mj-section></mj-body></mjml>"""
    # when compiled
    html = compile_mjml(source)
    # then the rule is on the element, and the media query still in a style block
    assert re.search(r'<span class="price" style="[^"]*color: #123456', html)
    assert "@media (max-width: 480px)" in html


def test_a_statement_inside_an_attribute_is_refused() -> None:
    # given a Jinja statement where an HTML parser cannot keep it
    source = """<mjml><mj-body><mj-section><mj-column><mj-table><tbody>
      <tr><td {% if x %}class="x"{% endif %}>1</td></tr></tbody></mj-table>
      </mj-column></mj-section></mj-body></mjml>"""
    # when compiling / then it fails loudly instead of producing a different template
    with pytest.raises(TemplateRenderError):
        compile_mjml(source)


def test_text_between_table_rows_is_refused_rather_than_moved() -> None:
    # given an expression between two rows, which HTML parsers move out of the table
    source = """<mjml><mj-body><mj-section><mj-column><mj-table><tbody>
      <tr><td>{{ first }}</td></tr>{{ stray }}<tr><td>2</td></tr></tbody></mj-table>
      </mj-column></mj-section></mj-body></mjml>"""
    # when compiling / then the reordering is detected
    with pytest.raises(TemplateRenderError, match="moved or lost Jinja2 tags"):
        compile_mjml(source)


def test_invalid_mjml_is_a_render_error() -> None:
    # given markup that is not MJML
    # when compiling / then the error is the templates' own
    with pytest.raises(TemplateRenderError, match="MJML"):
        compile_mjml("<mjml><mj-body><mj-section>")
