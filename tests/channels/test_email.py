import email
import email.policy
import re
from email.message import EmailMessage

import pytest

from relance.channels.email import OutgoingEmail, address_of, build_mime, make_message_id


def outgoing(**overrides: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "sender": "Maison Éclair <bonjour@maison.example>",
        "to": "Jonas Becker <jonas.becker@example.de>",
        "subject": "Jonas, vielen Dank für Ihre Bestellung Nr.\u00a010482 \u2013 Größe M",
        "html": "<p>Hallo Jonas</p>\n<p>" + "Merinowollpullover " * 20 + "</p>",
        "text": "Hallo Jonas,\n\nMerinowollpullover: 89,00\u00a0€\n.\n",
        "message_id": "<abc123@maison.example>",
    }
    values.update(overrides)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_build_mime_is_multipart_alternative_text_then_html() -> None:
    # given an email with both parts
    # when built
    message = parse(build_mime(outgoing()))
    # then the text part comes first and the HTML part last, both UTF-8
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == "utf-8"
    text = plain.get_content().replace("\r\n", "\n")  # CRLF on the wire
    assert text == "Hallo Jonas,\n\nMerinowollpullover: 89,00\u00a0€\n.\n"
    assert "Merinowollpullover" in html.get_content()


def test_build_mime_headers_round_trip() -> None:
    # given non-ASCII subject and display name
    sent = outgoing()
    # when built and parsed back
    message = parse(build_mime(sent))
    # then every header reads as it was given
    assert message["Subject"] == sent.subject
    assert message["From"].addresses[0].display_name == "Maison Éclair"
    assert message["From"].addresses[0].addr_spec == "bonjour@maison.example"
    assert message["To"].addresses[0].addr_spec == "jonas.becker@example.de"
    assert message["Message-ID"] == "<abc123@maison.example>"
    assert message["Date"].datetime.tzinfo is not None


@pytest.mark.parametrize(
    "subject",
    [
        "Smith & Sons \u2013 ihre Größe ist da",
        "a" * 90 + " then a long tail of words that must fold over several header lines ü",
        "literal =?utf-8?q?not_an_encoded_word?= stays",
    ],
)
def test_subjects_survive_folding_and_encoding(subject: str) -> None:
    # given subjects the stock email policy would alter
    # when built and parsed / then the text is unchanged
    assert parse(build_mime(outgoing(subject=subject)))["Subject"] == subject


def test_the_wire_form_is_crlf_and_7bit() -> None:
    # given an email full of non-ASCII text
    # when built
    data = build_mime(outgoing())
    # then every line ends in CRLF, stays within 998 octets, and is ASCII
    assert data.count(b"\n") == data.count(b"\r\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert data.isascii()


def test_extra_headers_are_added_but_managed_ones_refused() -> None:
    # given a List-Unsubscribe header
    headers = {"List-Unsubscribe": "<https://relance.test/u/t0k3n>"}
    # when built / then it is present as given
    assert (
        parse(build_mime(outgoing(headers=headers)))["List-Unsubscribe"]
        == headers["List-Unsubscribe"]
    )
    # and headers relance manages cannot be overridden
    for name in ("Subject", "bcc", "Content-Type", "Message-ID"):
        with pytest.raises(ValueError, match="managed"):
            build_mime(outgoing(headers={name: "x"}))


@pytest.mark.parametrize(
    "field", [{"subject": "Hi\r\nBcc: victim@example.com"}, {"headers": {"X-Tag": "a\nb"}}]
)
def test_header_injection_is_refused(field: dict[str, object]) -> None:
    # given a line break in a header value / when building / then it is refused
    with pytest.raises(ValueError, match="line breaks"):
        build_mime(outgoing(**field))


def test_make_message_id_is_unique_and_well_formed() -> None:
    # given a domain / when making ids
    ids = {make_message_id("maison.example") for _ in range(1000)}
    # then each is <random@domain> and none repeats
    assert len(ids) == 1000
    assert all(re.fullmatch(r"<[0-9a-f]{32}@maison\.example>", value) for value in ids)
    with pytest.raises(ValueError, match="domain"):
        make_message_id("bad domain>")


def test_address_of_gives_the_ascii_envelope_address() -> None:
    # given mailboxes with display names and an IDN domain
    # when extracting the envelope address / then it is ASCII
    assert address_of("Jonas <jonas@example.de>") == "jonas@example.de"
    assert address_of("jonas@bücher.de") == "jonas@xn--bcher-kva.de"
    for invalid in ("no address", "Jonas <>", "jönas@example.de"):
        with pytest.raises(ValueError, match=r"address|SMTPUTF8"):
            address_of(invalid)
