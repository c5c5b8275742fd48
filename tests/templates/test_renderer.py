import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from relance.templates import renderer as renderer_module
from relance.templates.compiler import compile_mjml as real_compile
from relance.templates.errors import DesignNotFound, TemplateRenderError
from relance.templates.library import PACKAGED_DESIGNS, DesignLibrary
from relance.templates.renderer import EmailRenderer, RenderedEmail

NBSP = "\u00a0"


def render(renderer: EmailRenderer, context: dict[str, Any], language: str | None) -> RenderedEmail:
    return renderer.render(
        "post_purchase", language=language, default_language="en", context=context
    )


@pytest.mark.parametrize(
    ("language", "greeting", "line_price", "total", "subject"),
    [
        ("en", "Thank you, Jonas!", "€89.00", "€132.90", "Jonas, thank you for your order #10482"),
        (
            "fr",
            "Merci, Jonas&nbsp;!",
            f"89,00{NBSP}€",
            f"132,90{NBSP}€",
            f"Jonas, merci pour votre commande n°{NBSP}10482",
        ),
        (
            "de",
            "Danke, Jonas!",
            f"89,00{NBSP}€",
            f"132,90{NBSP}€",
            f"Jonas, vielen Dank für Ihre Bestellung Nr.{NBSP}10482",
        ),
    ],
)
def test_each_language_renders_the_german_order_with_local_formats(
    renderer: EmailRenderer,
    context: dict[str, Any],
    language: str,
    greeting: str,
    line_price: str,
    total: str,
    subject: str,
) -> None:
    # given Jonas's order of a sweater and a card holder
    # when the thank-you email is rendered in one language
    email = render(renderer, context, language)
    # then subject, greeting, lines and totals are in that language's formats
    assert email.language == language
    assert email.subject == subject
    assert greeting in email.html
    assert f'<html lang="{language}"' in email.html
    assert "Merinowollpullover" in email.html
    assert "M / Marineblau" in email.html
    assert line_price in email.html
    assert total in email.html
    assert 'src="https://api.maison-example.fr/thumbnail/' in email.html
    assert "{{" not in email.html
    assert "{%" not in email.html
    assert email.design_version == renderer.library.version("post_purchase")


def test_german_dates_and_amounts(renderer: EmailRenderer, context: dict[str, Any]) -> None:
    # given the German email
    # when rendered
    email = render(renderer, context, "de")
    # then the order date is German and money reads 89,00 €
    assert "20. August 2026" in email.html
    assert f"Zwischensumme: 128,00{NBSP}€" in email.text
    assert f"Versand: 4,90{NBSP}€" in email.text


@pytest.mark.parametrize(
    ("requested", "expected"), [("pt-BR", "en"), ("de-AT", "de"), (None, "en")]
)
def test_the_language_falls_back_along_the_chain(
    renderer: EmailRenderer, context: dict[str, Any], requested: str | None, expected: str
) -> None:
    # given a design in en, fr and de
    # when a contact with another language is rendered
    email = render(renderer, context, requested)
    # then the nearest available variant is used
    assert email.language == expected


def test_personal_data_is_escaped_in_html_only(
    renderer: EmailRenderer, context: dict[str, Any]
) -> None:
    # given a first name that is an HTML injection attempt
    context["contact"]["first_name"] = "<script>alert(1)</script>"
    # when rendered
    email = render(renderer, context, "en")
    # then the HTML shows it as text, and subject and text part (not HTML) keep it as typed
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert email.subject.startswith("<script>alert(1)</script>, thank you")
    assert email.text.startswith("Hi <script>alert(1)</script>,")


def test_an_ampersand_in_the_subject_is_not_an_entity(
    renderer: EmailRenderer, context: dict[str, Any]
) -> None:
    # given a name with an ampersand
    context["contact"]["first_name"] = "Anna & Ben"
    # when rendered
    email = render(renderer, context, "en")
    # then the subject reads naturally, while the HTML escapes it
    assert email.subject == "Anna & Ben, thank you for your order #10482"
    assert "Thank you, Anna &amp; Ben!" in email.html


def test_css_is_inlined_on_the_elements(renderer: EmailRenderer, context: dict[str, Any]) -> None:
    # given the design's classes declared in <mj-style>
    # when rendered
    email = render(renderer, context, "de")
    # then the elements carry the declarations in style attributes
    assert re.search(r'<div class="line-name" style="[^"]*font-weight: bold', email.html)
    assert re.search(r'<td class="line-price" style="[^"]*text-align: right', email.html)
    assert re.search(r'<body style="[^"]*margin: 0', email.html)


def test_mjml_is_compiled_once_per_version_and_language(
    monkeypatch: pytest.MonkeyPatch, context: dict[str, Any]
) -> None:
    # given a renderer whose MJML compiler is counted
    calls: list[str] = []

    def counting_compile(source: str) -> str:
        calls.append(source)
        return real_compile(source)

    monkeypatch.setattr(renderer_module, "compile_mjml", counting_compile)
    renderer = EmailRenderer(DesignLibrary())
    # when the same email is rendered twice for different contacts, then in another language
    first = render(renderer, context, "de")
    context["contact"]["first_name"] = "Lena"
    second = render(renderer, context, "de")
    render(renderer, context, "fr")
    # then MJML was compiled once per language, and personalisation still differs
    assert len(calls) == 2
    assert "Danke, Jonas!" in first.html
    assert "Danke, Lena!" in second.html


def test_a_new_version_of_a_design_is_compiled_again(
    tmp_path: Path, context: dict[str, Any]
) -> None:
    # given a renderer over a writable copy of the designs
    root = tmp_path / "designs"
    shutil.copytree(PACKAGED_DESIGNS, root)
    renderer = EmailRenderer(DesignLibrary(root, recheck_after=0))
    before = render(renderer, context, "en")
    # when the English MJML is edited
    mjml = root / "post_purchase" / "en.mjml"
    mjml.write_text(mjml.read_text().replace("Order confirmed", "Order received"))
    after = render(renderer, context, "en")
    # then the next render uses (and reports) the new version
    assert after.design_version != before.design_version
    assert "Order received" in after.html
    assert "Order confirmed" in before.html


def test_the_text_part_lists_the_lines_and_the_total(
    renderer: EmailRenderer, context: dict[str, Any]
) -> None:
    # given the English email
    # when rendered
    text = render(renderer, context, "en").text
    # then it reads as a plain-text receipt
    assert "- Merinowollpullover (M / Marineblau), qty 1: €89.00\n" in text
    assert "- Kartenetui aus Leder, qty 1: €39.00\n" in text
    assert "Order number: #10482\n" in text
    assert "Total: €132.90\n" in text
    assert "The Maison Example team" in text
    assert "<" not in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize(
    ("language", "html_greeting", "text_greeting", "subject"),
    [
        ("en", "Thank you for your order!", "Hello,", "Thank you for your order #10482"),
        ("fr", "Merci pour votre commande&nbsp;!", "Bonjour,", "Merci pour votre commande n°"),
        ("de", "Vielen Dank für Ihre Bestellung!", "Guten Tag,", "Vielen Dank für Ihre Bestellung"),
    ],
)
def test_a_missing_first_name_falls_back_gracefully(
    renderer: EmailRenderer,
    context: dict[str, Any],
    language: str,
    html_greeting: str,
    text_greeting: str,
    subject: str,
) -> None:
    # given a contact without a first name (None, as the database may give it)
    context["contact"]["first_name"] = None
    # when rendered
    email = render(renderer, context, language)
    # then the greetings do not address anyone, and never show "None"
    assert html_greeting in email.html
    assert email.text.startswith(text_greeting)
    assert email.subject.startswith(subject)
    assert "None" not in email.html + email.text + email.subject


def test_missing_order_and_store_render_empty_not_broken(renderer: EmailRenderer) -> None:
    # given only a contact
    context = {"contact": {"email": "a@example.com"}}
    # when rendered
    email = render(renderer, context, "en")
    # then nothing fails and nothing undefined shows
    assert email.subject == "Thank you for your order"
    assert "The team" in email.text
    assert "None" not in email.html


def test_free_shipping_and_a_voucher_code(renderer: EmailRenderer, context: dict[str, Any]) -> None:
    # given an order with free shipping and a code
    context["order"] = context["order"] | {"shipping": "0.00", "voucher_code": "MERCI10"}
    # when rendered in German
    email = render(renderer, context, "de")
    # then both show
    assert "Kostenlos" in email.html
    assert "MERCI10" in email.html
    assert "Versand: kostenlos\n" in email.text
    assert "Gutscheincode: MERCI10\n" in email.text


def test_an_unknown_design_is_not_found(renderer: EmailRenderer) -> None:
    # given the packaged library
    # when rendering a design it does not have / then DesignNotFound
    with pytest.raises(DesignNotFound):
        renderer.render("abandoned_cart", language="en", default_language="en", context={})


def test_a_wrong_amount_is_a_render_error_without_personal_data(
    renderer: EmailRenderer, context: dict[str, Any]
) -> None:
    # given an order whose total is not a number
    context["order"] = context["order"] | {"total": "lots"}
    # when rendered / then it fails, and the message does not quote values
    with pytest.raises(TemplateRenderError) as failure:
        render(renderer, context, "en")
    assert "lots" not in str(failure.value)
    assert "Jonas" not in str(failure.value)


def _design(root: Path, *, text: str) -> None:
    design = root / "probe"
    design.mkdir(exist_ok=True)
    (design / "design.json").write_text('{"name": "probe", "subjects": {"en": "hi"}}')
    (design / "en.txt").write_text(text)
    (design / "en.mjml").write_text(
        "<mjml><mj-body><mj-section><mj-column><mj-text>x</mj-text>"
        "</mj-column></mj-section></mj-body></mjml>"
    )


def test_the_sandbox_keeps_templates_out_of_python_internals(tmp_path: Path) -> None:
    # given designs that try to reach Python internals
    renderer = EmailRenderer(DesignLibrary(tmp_path, recheck_after=0))
    _design(tmp_path, text="[{{ contact.__class__ }}][{{ contact.__init__ }}]")
    # when reading an internal attribute / then it is simply not there
    email = renderer.render("probe", language="en", default_language="en", context={"contact": {}})
    assert email.text == "[][]"
    # when calling through one / then the sandbox refuses
    _design(tmp_path, text="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateRenderError, match="unsafe"):
        renderer.render("probe", language="en", default_language="en", context={})


def test_templates_cannot_change_the_context(tmp_path: Path) -> None:
    # given a design that tries to modify the contact it was given
    _design(tmp_path, text="{{ contact.update({'email': 'x'}) }}")
    renderer = EmailRenderer(DesignLibrary(tmp_path))
    context = {"contact": {"email": "a@example.com"}}
    # when rendering / then it is refused and the context is untouched
    with pytest.raises(TemplateRenderError):
        renderer.render("probe", language="en", default_language="en", context=context)
    assert context == {"contact": {"email": "a@example.com"}}


def test_a_syntax_error_names_the_design_and_language(tmp_path: Path) -> None:
    # given a design whose subject does not parse
    design = tmp_path / "broken"
    shutil.copytree(PACKAGED_DESIGNS / "post_purchase", design)
    (design / "design.json").write_text('{"name": "b", "subjects": {"en": "{% if %}"}}')
    renderer = EmailRenderer(DesignLibrary(tmp_path))
    # when rendering / then the error says where
    with pytest.raises(TemplateRenderError, match=r"'broken' \(en\)"):
        renderer.render("broken", language="en", default_language="en", context={})
