"""Property tests of build_mime: for random headers and bodies, the bytes are well-formed MIME
(CRLF only, line lengths, 7-bit, no parser defects) and parse back — with the stdlib's modern
parser, ``email.policy.default`` — to exactly what was given."""

import email
import email.policy
import re
import secrets
from email.errors import NonPrintableDefect
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from relance.channels import email as email_module
from relance.channels.email import OutgoingEmail, build_mime

ADDRESS = "bonjour@maison.example"
RECIPIENT = "jonas.becker@example.de"

#: Fragments that have broken MIME writers: encodings, folding, dot-stuffing, mbox "From ",
#: trailing white space, things that look like encoded words or address syntax.
TRICKY = [
    "ü", "ß", "É", "€", "\u00a0", "\u2013", "🙂", "👩\u200d👩\u200d👧", "山田", "Привет",
    " ", "  ", "\t", ".", "..", "From ", "=?", "?=", "=?utf-8?q?x?=", "=", "_", "?",
    '"', "\\", "(", ")", "<", ">", "@", ",", ";", ":", "x" * 80,
    "\x00", "\x0b", "\x0c", "\x1c", "\x85", "\u2028",
]  # fmt: skip
LINE_BREAKS = ["\r\n", "\n", "\r", "\n\r", "\r\r\n"]
ONE_LINE = st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n")
ANY = st.characters(blacklist_categories=["Cs"])  # surrogates cannot be UTF-8


def one_line(max_pieces: int) -> st.SearchStrategy[str]:
    """Header text: tricky fragments and random characters, no line breaks."""
    piece = st.sampled_from(TRICKY) | st.text(ONE_LINE, max_size=12)
    return st.lists(piece, max_size=max_pieces).map("".join)


def bodies() -> st.SearchStrategy[str]:
    """Body text: long lines, every kind of line break, lines starting with '.' or 'From '."""
    piece = (
        st.sampled_from(TRICKY + LINE_BREAKS + ["y" * 300, "z " * 50, " " * 80])
        | st.text(ANY, max_size=30)
        | st.integers(70, 80).map(lambda n: "w" * n + " \n")  # b2a_qp's overlong lines
    )
    return st.lists(piece, max_size=40).map("".join)


def display_names() -> st.SearchStrategy[str]:
    # At most 600 octets: one encoded word per run still fits a line (longer: a test below).
    return one_line(10).filter(lambda name: len(name.encode()) <= 600)


def mailbox(display_name: str, address: str) -> str:
    """``"display name" <address>`` as a caller would write it (quoted, escaped)."""
    if not display_name:
        return address
    escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}" <{address}>'


def normalised(display_name: str) -> str:
    """A display name as build_mime writes it: each space or tab and the white space after it
    as one space, trimmed."""
    return re.sub(r"[ \t]\s*", " ", display_name).strip(" ")


ENCODED_WORD = re.compile(rb"=\?[^?]+\?[bqBQ]\?[^?]*\?=")
PHRASE_TOKEN = re.compile(r'"((?:\\.|[^"\\])*)"|(=\?[^?]+\?[bqBQ]\?[^?]*\?=)|([^ "]+)')


def rfc_phrase(phrase: str) -> str:
    """A phrase read by the book, independently of the email package's phrase parser:
    quoted-strings unescaped, encoded words decoded (RFC 2047 §6.2: the white space between two
    adjacent ones dropped), single spaces between the other words."""
    words: list[str] = []
    previous_encoded = False
    for match in PHRASE_TOKEN.finditer(phrase):
        quoted, encoded, atom = match.groups()
        if encoded is not None:
            word = str(make_header(decode_header(encoded)))
        elif quoted is not None:
            word = re.sub(r"\\(.)", r"\1", quoted)
        else:
            word = atom
        if words and not (previous_encoded and encoded is not None):
            words.append(" ")
        words.append(word)
        previous_encoded = encoded is not None
    return "".join(words)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def lf(text: str) -> str:
    """Line breaks normalised: CRLF, lone CR and lone LF each become one LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unfolded(data: bytes, name: bytes) -> bytes:
    """The raw value of header ``name``, its folds removed."""
    head = data.split(b"\r\n\r\n", 1)[0]
    match = re.search(rb"^" + name + rb": ?([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    assert match is not None
    return match.group(1).replace(b"\r\n", b"")


def assert_wire_form(data: bytes) -> None:
    """7-bit; CRLF line breaks only, the last line terminated; lines within 998 octets; header
    lines within 78 unless there was nowhere to fold; body lines within 76."""
    assert data.isascii()
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r") == data.count(b"\r\n")
    head, body = data.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n"):
        assert len(line) <= 998
        if len(line) > 78:  # then it holds one token: no space before a non-space to fold at
            value = line[1:] if line.startswith(b" ") else line.split(b": ", 1)[1]
            assert re.search(rb" [^ ]", value) is None, line
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def assert_no_defects(message: EmailMessage) -> None:
    """No parser defect, but for the decoded text holding control characters the caller gave."""
    assert message.defects == []
    for name, value in message.items():
        defects = [d for d in value.defects if not isinstance(d, NonPrintableDefect)]
        assert defects == [], name
    for part in message.iter_parts():
        assert part.defects == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=one_line(12),
    sender_name=display_names(),
    recipient_name=display_names(),
    text=bodies(),
    html=bodies(),
    tag=one_line(6),
)
@example(  # Python 3.11's own folding dropped the space between these encoded words
    subject="Jonas, vielen Dank für Ihre Bestellung Nr.\u00a010482 \u2013 Größe M " * 2,
    sender_name="Maison Éclair",
    recipient_name="Bérénice-Amélie Rosemonde Dûbois-Bénard",
    text="x" * 75 + " \n.\nFrom here\r\n" + "y" * 76 + "\t",
    html="<p>" + "é" * 200 + "</p>",
    tag="=?utf-8?q?not_an_encoded_word?=",
)
def test_every_header_and_body_round_trips(
    subject: str, sender_name: str, recipient_name: str, text: str, html: str, tag: str
) -> None:
    # given an email with random headers and bodies
    sent = OutgoingEmail(
        sender=mailbox(sender_name, ADDRESS),
        to=mailbox(recipient_name, RECIPIENT),
        subject=subject,
        html=html,
        text=text,
        message_id="<3f2a@maison.example>",
        headers={"X-Campaign-Tag": tag, "List-Unsubscribe": "<https://relance.test/u/t0k3n>"},
    )
    # when built
    data = build_mime(sent)
    # then the wire form is well-formed
    assert_wire_form(data)
    message = parse(data)
    assert_no_defects(message)
    # and every header reads back as given (display names as the caller's mailbox meant them)
    assert message["Subject"] == subject
    assert str(make_header(decode_header(unfolded(data, b"Subject").decode()))) == subject
    for name in (b"Subject", b"X-Campaign-Tag"):  # RFC 2047 §2: encoded words of 75 at most
        assert all(len(word) <= 75 for word in ENCODED_WORD.findall(unfolded(data, name)))
    for header, given_mailbox, address in (
        ("From", sent.sender, ADDRESS),
        ("To", sent.to, RECIPIENT),
    ):
        [parsed] = message[header].addresses
        assert parsed.display_name == normalised(parseaddr(given_mailbox)[0])
        assert parsed.addr_spec == address
    assert message["Message-ID"] == sent.message_id
    assert message["X-Campaign-Tag"] == tag
    assert message["List-Unsubscribe"] == "<https://relance.test/u/t0k3n>"
    assert message["MIME-Version"] == "1.0"
    assert message["Date"].datetime.tzinfo is not None
    # and the bodies are multipart/alternative, text then HTML, UTF-8 quoted-printable, exact
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    for part, subtype, body in ((plain, "plain", text), (rich, "html", html)):
        assert part.get_content_type() == f"text/{subtype}"
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert lf(part.get_content()) == lf(body)


@settings(max_examples=300, deadline=None)
@given(name=one_line(10))
def test_display_names_read_back_as_rfc_2047_and_cpython_read_them(name: str) -> None:
    # given any display name, quoted as a caller would
    sent = OutgoingEmail(
        sender=mailbox(name, ADDRESS),
        to=RECIPIENT,
        subject="",
        html="",
        text="",
        message_id="<a@b>",
    )
    # when built
    data = build_mime(sent)
    # then the phrase, read by the RFC 2047 rules and by CPython, is the name parseaddr saw
    assert_wire_form(data)
    expected = normalised(parseaddr(sent.sender)[0])
    raw = unfolded(data, b"From").decode()
    if not expected:  # no display name: the bare address
        assert raw == ADDRESS
    else:
        assert rfc_phrase(raw.removesuffix(f" <{ADDRESS}>")) == expected
    assert parse(data)["From"].addresses[0].display_name == expected


@pytest.mark.parametrize("name", ["山田太郎" * 100, "Ä" * 2000])
def test_a_display_name_too_long_for_one_line_is_split_into_75_character_words(name: str) -> None:
    # given a display name whose single encoded word would pass 998 octets
    sent = OutgoingEmail(
        sender=f"{name} <{ADDRESS}>", to=RECIPIENT, subject="", html="", text="", message_id="<a@b>"
    )
    # when built
    data = build_mime(sent)
    # then lines stay short, and an RFC 2047 reader gets the name back
    assert_wire_form(data)
    phrase = unfolded(data, b"From").decode().removesuffix(f" <{ADDRESS}>")
    assert all(len(word) <= 75 for word in phrase.split(" "))
    assert rfc_phrase(phrase) == name


def test_display_name_white_space_is_normalised() -> None:
    # given names with runs of spaces and tabs / when built / then one space, trimmed
    for name, written in (("  Jonas \t Becker ", "Jonas Becker"), ("Zoë  Müller\t", "Zoë Müller")):
        sent = OutgoingEmail(
            sender=f'"{name}" <{ADDRESS}>',
            to=RECIPIENT,
            subject="",
            html="",
            text="",
            message_id="<a@b>",
        )
        assert parse(build_mime(sent))["From"].addresses[0].display_name == written


@settings(max_examples=100, deadline=None)
@given(
    before=one_line(4),
    after=one_line(4),
    line_break=st.sampled_from(["\r\n", "\n", "\r"]),
    where=st.sampled_from(["subject", "sender", "to", "message_id", "extra"]),
)
def test_header_injection_is_refused(before: str, after: str, line_break: str, where: str) -> None:
    # given a line break anywhere in any header value
    value = before + line_break + after
    fields: dict[str, object] = {
        "sender": f"Maison <{ADDRESS}>",
        "to": RECIPIENT,
        "subject": "Hello",
        "html": "",
        "text": "",
        "message_id": "<a@b>",
    }
    if where == "extra":
        fields["headers"] = {"X-Tag": value}
    elif where in ("sender", "to"):
        fields[where] = f"{value} <{ADDRESS}>"
    else:
        fields[where] = value
    # when building / then it is refused
    with pytest.raises(ValueError, match="line breaks"):
        build_mime(OutgoingEmail(**fields))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["", "X Tag", "X-Tag:", "X-Tägg", "X-\x00", "X-" + "a" * 80, "Content-Language", "BCC"]
)
def test_invalid_or_managed_header_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"header name|managed"):
        build_mime(
            OutgoingEmail(
                sender=ADDRESS,
                to=RECIPIENT,
                subject="",
                html="",
                text="",
                message_id="<a@b>",
                headers={name: "x"},
            )
        )


def test_an_address_header_extra_gets_encoded_display_names() -> None:
    # given a Reply-To with non-ASCII display names and an IDN domain
    reply_to = "Zoë Müller <zoe@bücher.de>, Maison Éclair <service@maison.example>"
    data = build_mime(
        OutgoingEmail(
            sender=ADDRESS,
            to=RECIPIENT,
            subject="",
            html="",
            text="",
            message_id="<a@b>",
            headers={"Reply-To": reply_to},
        )
    )
    # when parsed / then both mailboxes read back, the domain in punycode
    assert_wire_form(data)
    addresses = parse(data)["Reply-To"].addresses
    assert [(a.display_name, a.addr_spec) for a in addresses] == [
        ("Zoë Müller", "zoe@xn--bcher-kva.de"),
        ("Maison Éclair", "service@maison.example"),
    ]


def test_the_boundary_is_checked_against_the_content(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a random source whose first boundary occurs in a body
    draws = iter(["0" * 32, "1" * 32])
    monkeypatch.setattr(secrets, "token_hex", lambda _n: next(draws))
    # when a boundary is chosen / then the one that occurs is skipped
    assert email_module._boundary(b"x\r\n--=_" + b"0" * 32, b"") == b"=_" + b"1" * 32


@settings(max_examples=300, deadline=None)
@given(address=st.emails() | st.from_regex(email_module._BARE_ADDRESS, fullmatch=True))
def test_the_bare_address_fast_path_agrees_with_parseaddr(address: str) -> None:
    # given what the fast path takes: a bare ASCII dot-atom@domain
    assume(email_module._BARE_ADDRESS.fullmatch(address))  # not all of st.emails() do
    # when parsed / then parseaddr would have given the same: no name, the address unchanged
    assert parseaddr(address) == ("", address)
    assert email_module._parsed_mailbox(address) == ("", address)


@settings(max_examples=500, deadline=None)
@given(
    mailbox=st.from_regex(email_module._SIMPLE_MAILBOX, fullmatch=True)
    | st.builds(
        "{}{}<{}>".format,
        one_line(6),
        st.sampled_from(["", " ", "\t ", "  "]),
        st.from_regex(email_module._BARE_ADDRESS, fullmatch=True),
    )
)
def test_the_simple_mailbox_fast_path_agrees_with_parseaddr(mailbox: str) -> None:
    # given what the fast path takes: Name <dot-atom@domain>, a name without specials
    assume(email_module._SIMPLE_MAILBOX.fullmatch(mailbox))
    # when parsed / then it is what parseaddr gives
    assert email_module._parsed_mailbox(mailbox) == parseaddr(mailbox)


@settings(max_examples=100, deadline=None)
@given(name=st.from_regex(r"X-[A-Za-z0-9-]{1,74}", fullmatch=True), value=one_line(8))
def test_extra_headers_with_long_names_round_trip(name: str, value: str) -> None:
    # given a header name up to the 76-character limit and any text
    sent = OutgoingEmail(
        sender=ADDRESS,
        to=RECIPIENT,
        subject="",
        html="",
        text="",
        message_id="<a@b>",
        headers={name: value},
    )
    # when built and parsed / then it reads back, lines within 998 octets
    data = build_mime(sent)
    assert_wire_form(data)
    assert parse(data)[name] == value
