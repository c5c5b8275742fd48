import pytest

from relance.templates.locales import resolve_language

AVAILABLE = frozenset({"en", "fr", "de", "pt-BR"})


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("DE-at", "de"),
        ("de_CH", "de"),
        ("pt-BR", "pt-BR"),
        ("pt-br", "pt-BR"),
        ("pt", "en"),
        ("es", "en"),
        (None, "en"),
        ("", "en"),
        ("  ", "en"),
    ],
)
def test_the_chain_goes_from_the_tag_to_its_prefixes_to_the_default(
    requested: str | None, expected: str
) -> None:
    # given the languages of a design and English as the default
    # when a contact asks for a language
    chosen = resolve_language(requested, AVAILABLE, "en")
    # then the most specific available match wins, else the default
    assert chosen == expected


def test_pt_br_falls_back_to_pt_before_the_default() -> None:
    # given a design with Portuguese but no Brazilian variant
    available = ["en", "pt"]
    # when a Brazilian contact is resolved
    chosen = resolve_language("pt-BR", available, "en")
    # then the generic Portuguese is chosen over the default
    assert chosen == "pt"


def test_an_unavailable_default_falls_back_to_the_first_available_in_sorted_order() -> None:
    # given a design without the default language
    # when nothing in the chain is available
    chosen = resolve_language("es", iter(["fr", "de"]), "en")
    # then the answer does not depend on iteration order
    assert chosen == "de"


def test_the_default_tag_is_matched_through_its_prefixes_too() -> None:
    # given a campaign whose default is a regional tag
    # when only the generic language exists
    chosen = resolve_language("ja", {"fr", "en"}, "en-GB")
    # then the default's prefix matches
    assert chosen == "en"


def test_no_available_language_is_an_error() -> None:
    # given an empty set of languages
    # when resolving / then it refuses rather than inventing a language
    with pytest.raises(ValueError, match="no language"):
        resolve_language("en", [], "en")
