import shutil
from pathlib import Path

import pytest

from relance.templates.errors import DesignNotFound, TemplateRenderError
from relance.templates.library import PACKAGED_DESIGNS, DesignLibrary


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    """A writable copy of the packaged designs."""
    root = tmp_path / "designs"
    shutil.copytree(PACKAGED_DESIGNS, root)
    return root


def test_the_packaged_library_has_the_post_purchase_design_in_three_languages() -> None:
    # given the library shipped with relance
    library = DesignLibrary()
    # when listing it
    designs = library.known_designs()
    # then the post-purchase design exists in English, French and German
    assert "post_purchase" in designs
    assert library.languages("post_purchase") == {"en", "fr", "de", "es", "it"}


def test_source_holds_mjml_text_and_subject_of_one_language() -> None:
    # given the packaged library
    library = DesignLibrary()
    # when reading the German source
    source = library.source("post_purchase", "de")
    # then each part is the German one
    assert '<mjml lang="de">' in source.mjml
    assert "Gesamtsumme" in source.text
    assert "Bestellung" in source.subject
    assert source.version == library.version("post_purchase")


def test_the_version_is_a_short_hash_that_changes_with_any_file(designs: Path) -> None:
    # given a library that looks at its files on every call
    library = DesignLibrary(designs, recheck_after=0)
    before = library.version("post_purchase")
    # when one file changes
    text = designs / "post_purchase" / "fr.txt"
    text.write_text(text.read_text() + "\nP.-S. : merci encore.\n")
    # then the version changes, and so does the source it serves
    after = library.version("post_purchase")
    assert len(before) == 12
    assert after != before
    assert library.source("post_purchase", "fr").text.endswith("merci encore.\n")


def test_the_version_does_not_depend_on_where_the_design_lives(designs: Path) -> None:
    # given the same files in two places
    # when their versions are computed / then they are equal (content only)
    assert DesignLibrary(designs).version("post_purchase") == DesignLibrary().version(
        "post_purchase"
    )


def test_a_language_needs_all_three_parts(designs: Path) -> None:
    # given a design whose French text part is missing
    (designs / "post_purchase" / "fr.txt").unlink()
    library = DesignLibrary(designs)
    # when listing its languages
    languages = library.languages("post_purchase")
    # then French is not offered
    assert languages == {"en", "de", "es", "it"}
    with pytest.raises(DesignNotFound):
        library.source("post_purchase", "fr")


@pytest.mark.parametrize("name", ["missing", "../designs/post_purchase", "post_purchase/..", ""])
def test_unknown_or_path_like_names_are_not_found(name: str) -> None:
    # given the packaged library
    library = DesignLibrary()
    # when asking for a design that does not exist / then it is not found
    with pytest.raises(DesignNotFound):
        library.version(name)
    assert name not in library.known_designs()


def test_a_broken_manifest_is_reported(designs: Path) -> None:
    # given a design.json that is not JSON
    (designs / "post_purchase" / "design.json").write_text("{subjects: nope")
    # when reading the design / then the error says which file is wrong
    with pytest.raises(TemplateRenderError, match=r"design\.json"):
        DesignLibrary(designs).languages("post_purchase")


def test_an_empty_root_knows_no_designs(tmp_path: Path) -> None:
    # given a folder that does not exist
    # when listing / then nothing is known
    assert DesignLibrary(tmp_path / "nowhere").known_designs() == frozenset()
