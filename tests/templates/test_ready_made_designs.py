"""The designs of the ready-made campaigns, in every language, with rich and empty contexts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer, RenderedEmail

NBSP = "\u00a0"
LANGUAGES = ("fr", "en", "de", "es", "it")
CART_DESIGNS = ("abandoned_cart_female", "abandoned_cart_male", "abandoned_cart_unknown")
CODE_DESIGNS = ("abandoned_cart_reminder", "welcome_prospect", "welcome_reminder")
DESIGNS = (
    "post_purchase",
    "cross_sell",
    *CART_DESIGNS,
    "abandoned_cart_reminder",
    "welcome_prospect",
    "welcome_reminder",
    "welcome_customer",
)
EVERY_VARIANT = [(design, language) for design in DESIGNS for language in LANGUAGES]
UNSUBSCRIBE = "https://relance.example/u/3f9a"
PREFERENCES = "https://relance.example/p/3f9a"
RECOVERY = "https://maison-example.fr/checkout/recover/c7e1"
TOTAL = {
    "fr": f"132,90{NBSP}€",
    "en": "€132.90",
    "de": f"132,90{NBSP}€",
    "es": f"132,90{NBSP}€",
    "it": f"132,90{NBSP}€",
}
UNSUBSCRIBE_LABEL = {
    "fr": "Se désabonner",
    "en": "Unsubscribe",
    "de": "Abmelden",
    "es": "Darse de baja",
    "it": "Annulla l\u2019iscrizione",
}


@pytest.fixture
def rich(german_order: dict[str, Any]) -> dict[str, Any]:
    """Everything a send may carry: Camille's order, her abandoned cart, a code and her links."""
    return {
        "contact": {
            "email": "camille.martin@example.fr",
            "first_name": "Camille",
            "last_name": "Martin",
            "language": "fr",
            "gender": "female",
            "country": "FR",
            "custom_fields": {},
        },
        "store": {"name": "Maison Example", "url": "https://maison-example.fr"},
        "order": german_order,
        "cart": {
            "checkout_id": "c7e1",
            "channel": "default-channel",
            "currency": "EUR",
            "lines": german_order["lines"],
            "subtotal": "128.00",
            "total": "132.90",
            "recovery_url": RECOVERY,
        },
        "discount": {
            "code": "COMEBACK-7KQ2M",
            "kind": "percentage",
            "value": "10",
            "currency": "EUR",
            "expires_at": "2026-09-01T12:00:00+00:00",
        },
        "links": {"unsubscribe": UNSUBSCRIBE, "preferences": PREFERENCES},
    }


def render(
    renderer: EmailRenderer, design: str, language: str, context: dict[str, Any]
) -> RenderedEmail:
    return renderer.render(design, language=language, default_language="en", context=context)


def assert_well_formed(email: RenderedEmail) -> None:
    """No Jinja2 left over, nothing missing shown, a one-line subject, tidy text."""
    everything = email.subject + email.html + email.text
    for leftover in ("{{", "{%", "}}", "%}", "@@jinja", "None", "Undefined", "&amp;nbsp;"):
        assert leftover not in everything
    assert email.subject
    assert email.subject == email.subject.strip()
    assert "\n" not in email.subject
    assert "  " not in email.subject
    assert 'href=""' not in email.html
    assert 'src=""' not in email.html
    assert "<" not in email.text
    assert "\n\n\n" not in email.text
    assert email.text.endswith("\n")
    assert not email.text.startswith(("\n", " "))


def test_every_design_exists_in_the_five_languages() -> None:
    # given the packaged library
    library = DesignLibrary()
    # when listing the ready-made designs / then each has the five languages, no more, no less
    for design in DESIGNS:
        assert library.languages(design) == set(LANGUAGES), design


@pytest.mark.parametrize(("design", "language"), EVERY_VARIANT)
def test_every_variant_renders_with_everything_set(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str
) -> None:
    # given a contact with an order, a cart, a code and links
    # when each design is rendered in each language
    email = render(renderer, design, language, rich)
    # then it is that language's, complete, personal and signed by the store
    assert email.language == language
    assert_well_formed(email)
    assert f'<html lang="{language}"' in email.html
    assert "Camille" in email.subject
    assert "Maison Example" in email.html
    assert "Maison Example" in email.text
    assert '<a href="https://maison-example.fr"' in email.html


@pytest.mark.parametrize(("design", "language"), EVERY_VARIANT)
def test_every_variant_reads_well_with_an_empty_context(
    renderer: EmailRenderer, design: str, language: str
) -> None:
    # given nothing at all: no contact, store, order, cart, code or links
    # when rendered
    email = render(renderer, design, language, {})
    # then nothing fails, nothing undefined shows, and no empty link or block is left
    assert_well_formed(email)
    assert UNSUBSCRIBE_LABEL[language] not in email.html + email.text
    assert "<mj-" not in email.html
    assert not re.search(r"(?m)^\s*[-:]\s*$", email.text)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("design", [*CART_DESIGNS, "abandoned_cart_reminder", "post_purchase"])
def test_prices_are_formatted_for_the_language(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str
) -> None:
    # given a cart and an order of 132.90 EUR
    # when rendered
    email = render(renderer, design, language, rich)
    # then the total reads as the language writes money, in HTML and text
    assert TOTAL[language] in email.html
    assert TOTAL[language] in email.text
    line_price = "€89.00" if language == "en" else f"89,00{NBSP}€"
    assert line_price in email.html
    assert line_price in email.text


@pytest.mark.parametrize("design", [*CART_DESIGNS, "abandoned_cart_reminder", "cross_sell"])
def test_lines_show_their_image_or_initial_and_names(
    renderer: EmailRenderer, rich: dict[str, Any], design: str
) -> None:
    # given a line with a thumbnail and a line without one
    # when rendered
    email = render(renderer, design, "de", rich)
    # then the first shows its picture, the second its initial, and both their names
    assert (
        len(
            re.findall(r'<img class="line-image"[^>]* src="https://api\.maison-example', email.html)
        )
        == 1
    )
    assert 'alt="Merino wool sweater, navy"' in email.html
    assert re.search(r'<div class="line-initial"[^>]*>K</div>', email.html)
    assert "Merinowollpullover" in email.html
    assert "M / Marineblau" in email.html
    assert "- Merinowollpullover (M / Marineblau)" in email.text


GREETINGS = {
    # language: (female, male, unknown) with a first name, then without one
    "fr": (
        ("Chère Camille,", "Cher Camille,", "Bonjour Camille,"),
        ("Chère cliente,", "Cher client,", "Bonjour,"),
    ),
    "de": (
        ("Liebe Camille,", "Lieber Camille,", "Hallo Camille,"),
        ("Liebe Kundin,", "Lieber Kunde,", "Guten Tag,"),
    ),
    "es": (
        ("Querida Camille:", "Querido Camille:", "¡Hola, Camille!"),
        ("Querida clienta:", "Querido cliente:", "¡Hola!"),
    ),
    "it": (
        ("Cara Camille,", "Caro Camille,", "Ciao Camille,"),
        ("Cara cliente,", "Caro cliente,", "Ciao,"),
    ),
    "en": (("Hi Camille,",) * 3, ("Hello,",) * 3),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("named", [True, False])
def test_the_three_cart_designs_greet_by_grammatical_gender(
    renderer: EmailRenderer, rich: dict[str, Any], language: str, named: bool
) -> None:
    # given the same contact, with or without a first name
    if not named:
        rich["contact"]["first_name"] = None
    expected = GREETINGS[language][0 if named else 1]
    # when each of the three cart designs is rendered
    emails = [render(renderer, design, language, rich) for design in CART_DESIGNS]
    # then each opens with its own greeting, in HTML and text
    for email, greeting in zip(emails, expected, strict=True):
        assert greeting in email.html
        assert email.text.startswith(greeting + "\n\n")
    if language != "en":
        assert len({email.text.split("\n")[0] for email in emails}) == 3


def test_german_letters_go_on_in_lower_case_after_the_greeting(
    renderer: EmailRenderer, rich: dict[str, Any]
) -> None:
    # given the German cart email
    # when rendered
    email = render(renderer, "abandoned_cart_male", "de", rich)
    # then the sentence after "Lieber Camille," starts in lower case, as German letters do
    assert email.text.startswith("Lieber Camille,\n\nwir haben Ihre Auswahl")


@pytest.mark.parametrize("design", [*CART_DESIGNS, "abandoned_cart_reminder"])
def test_the_recovery_button_shows_only_with_a_recovery_url(
    renderer: EmailRenderer, rich: dict[str, Any], design: str
) -> None:
    # given a cart with a recovery link
    # when rendered / then the button links to it
    with_link = render(renderer, design, "fr", rich)
    assert f'href="{RECOVERY}"' in with_link.html
    assert RECOVERY in with_link.text
    # given a store without a storefront URL for the channel (recovery_url is empty)
    rich["cart"]["recovery_url"] = ""
    # when rendered / then there is no button at all, not an empty one
    without = render(renderer, design, "fr", rich)
    assert "Retrouver mon panier" not in without.html
    assert "Finaliser ma commande" not in without.html
    assert RECOVERY not in without.html + without.text
    assert 'href=""' not in without.html
    assert "132,90" in without.html


@pytest.mark.parametrize(("design", "language"), EVERY_VARIANT)
def test_the_unsubscribe_link_shows_only_when_set(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str
) -> None:
    # given links to unsubscribe and to the preferences
    # when rendered / then both are in the footer of the HTML and of the text
    email = render(renderer, design, language, rich)
    assert f'<a href="{UNSUBSCRIBE}"' in email.html
    assert f'<a href="{PREFERENCES}"' in email.html
    assert UNSUBSCRIBE_LABEL[language] in email.html
    assert re.search(
        rf"(?m)^{re.escape(UNSUBSCRIBE_LABEL[language])}\W+ {UNSUBSCRIBE}$", email.text
    )
    # given no links (a transactional send)
    rich["links"] = {}
    # when rendered / then neither the links nor their labels show
    bare = render(renderer, design, language, rich)
    assert UNSUBSCRIBE not in bare.html + bare.text
    assert UNSUBSCRIBE_LABEL[language] not in bare.html + bare.text


OFFERS = {
    # language: (percentage, fixed 15.00 EUR, free shipping, expiry date)
    "fr": (
        "10&nbsp;% de réduction",
        f"15,00{NBSP}€ de réduction",
        "Livraison offerte",
        "mardi 1 septembre 2026",
    ),
    "en": ("10% off", "€15.00 off", "Free shipping", "Tuesday, September 1, 2026"),
    "de": (
        "10&nbsp;% Rabatt",
        f"15,00{NBSP}€ Rabatt",
        "Kostenloser Versand",
        "Dienstag, 1. September 2026",
    ),
    "es": (
        "10&nbsp;% de descuento",
        f"15,00{NBSP}€ de descuento",
        "Envío gratis",
        "martes 1 de septiembre de 2026",
    ),
    "it": (
        "10% di sconto",
        f"15,00{NBSP}€ di sconto",
        "Spedizione gratuita",
        "martedì 1 settembre 2026",
    ),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("design", CODE_DESIGNS)
def test_the_code_shows_its_value_for_each_kind_and_its_expiry(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str
) -> None:
    percentage, fixed, free_shipping, expiry = OFFERS[language]
    # given a 10 % code
    # when rendered / then the code, its locale-formatted value and its expiry show
    email = render(renderer, design, language, rich)
    assert "COMEBACK-7KQ2M" in email.html
    assert "COMEBACK-7KQ2M" in email.text
    assert percentage in email.html
    assert percentage.replace("&nbsp;", NBSP) in email.text
    assert expiry in email.html
    assert expiry in email.text
    # given a fixed 15.00 EUR code, then a free-shipping one
    for kind, value, expected in (("fixed", "15.00", fixed), ("free_shipping", "0", free_shipping)):
        rich["discount"] = rich["discount"] | {"kind": kind, "value": value}
        # when rendered / then the value reads in that kind's words
        email = render(renderer, design, language, rich)
        assert expected in email.html
        assert expected in email.text
        assert percentage not in email.html


def test_a_fractional_percentage_uses_the_decimal_comma(
    renderer: EmailRenderer, rich: dict[str, Any]
) -> None:
    # given a 12.5 % code
    rich["discount"]["value"] = "12.50"
    # when rendered in French and English
    # then each writes the number its own way
    assert "12,5&nbsp;% de réduction" in render(renderer, "welcome_prospect", "fr", rich).html
    assert "12.5% off" in render(renderer, "welcome_prospect", "en", rich).html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("design", CODE_DESIGNS)
def test_without_a_code_the_offer_disappears_and_the_copy_still_reads(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str
) -> None:
    # given the code step failed (no discount in the context)
    with_code = render(renderer, design, language, rich)
    del rich["discount"]
    # when rendered
    email = render(renderer, design, language, rich)
    # then there is no code box, and the subject and copy are not the ones about a code
    assert_well_formed(email)
    assert 'class="offer' not in email.html
    assert "COMEBACK" not in email.text
    assert OFFERS[language][0] not in email.html
    if design != "welcome_prospect":
        assert email.subject != with_code.subject


def test_the_code_box_is_styled_inline(renderer: EmailRenderer, rich: dict[str, Any]) -> None:
    # given the design's offer classes declared in <mj-style>
    # when rendered
    html = render(renderer, "abandoned_cart_reminder", "en", rich).html
    # then the code carries its declarations for clients that drop <style>
    assert re.search(r'<div class="offer-code" style="[^"]*font-family: \'Courier New\'', html)
    assert re.search(r'<div class="offer" style="[^"]*border: 1px dashed', html)


@pytest.mark.parametrize(
    ("design", "language", "subject"),
    [
        ("abandoned_cart_female", "fr", "Camille, votre panier vous attend"),
        ("abandoned_cart_reminder", "de", "Camille, ein kleines Geschenk für Ihre Bestellung"),
        (
            "welcome_prospect",
            "fr",
            f"Bienvenue chez Maison Example, Camille{NBSP}: un cadeau pour votre première commande",
        ),
        ("welcome_reminder", "es", "Camille, tu código de bienvenida sigue activo"),
        ("welcome_customer", "it", "Camille, grazie per la tua fiducia"),
        ("cross_sell", "en", "Camille, a few ideas to go with your order"),
        ("post_purchase", "es", f"Camille, gracias por tu pedido n.º{NBSP}10482"),
        ("post_purchase", "it", f"Camille, grazie per il tuo ordine n.{NBSP}10482"),
    ],
)
def test_subjects(
    renderer: EmailRenderer, rich: dict[str, Any], design: str, language: str, subject: str
) -> None:
    # given Camille's context / when rendered / then the subject is the language's
    assert render(renderer, design, language, rich).subject == subject


def test_personal_data_is_escaped_in_the_html(
    renderer: EmailRenderer, rich: dict[str, Any]
) -> None:
    # given a first name and a product name that try to inject HTML
    rich["contact"]["first_name"] = "<b>Eve</b>"
    rich["cart"]["lines"] = [rich["cart"]["lines"][0] | {"product_name": "<script>x</script>"}]
    # when rendered
    email = render(renderer, "abandoned_cart_female", "fr", rich)
    # then the HTML shows them as text, the text part as typed
    assert "<b>Eve</b>" not in email.html
    assert "Chère &lt;b&gt;Eve&lt;/b&gt;," in email.html
    assert "<script>" not in email.html
    assert email.text.startswith("Chère <b>Eve</b>,")
