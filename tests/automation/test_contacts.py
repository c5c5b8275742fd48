"""contacts: what a platform tells about a contact is normalised on the way in."""

from relance.automation.contacts import ContactUpdate


def test_emails_and_languages_are_normalised() -> None:
    update = ContactUpdate(email="  Jonas.Becker@Example.DE ", language="PT_BR")
    assert update.email == "jonas.becker@example.de"
    assert update.language == "pt-BR"
