"""An outgoing email, the transport protocol every email channel implements, and its MIME form.

:func:`build_mime` is the single place where an :class:`OutgoingEmail` becomes bytes on the wire.
It writes them directly (the :mod:`email` package's generator cost ~6 ms a message):

- ``multipart/alternative``: text/plain first, text/html last (RFC 2046 orders by preference),
  both ``charset="utf-8"`` in quoted-printable (7-bit clean, so no 8BITMIME is needed);
- CRLF line endings only; header lines of at most 78 octets wherever a fold is possible and never
  over 998 (RFC 5322 §2.1.1); body lines of at most 76 (RFC 2045 §6.7);
- the boundary is ``=_`` and 128 random bits: ``=_`` never occurs in quoted-printable, and the
  bodies are checked anyway;
- headers From, To, Subject, Date, Message-ID, the extras of ``OutgoingEmail.headers`` in their
  order, MIME-Version, Content-Type. The headers relance manages (From, To, Cc, Bcc, Subject,
  Date, Message-ID, MIME-Version and Content-*) cannot be overridden through
  ``OutgoingEmail.headers``, and a line break in any header value is refused (header injection).

Header text: printable ASCII stays readable, folded at its spaces. Anything else — non-ASCII,
control characters, a leading or trailing space, a literal ``=?``, a word too long for a line —
becomes RFC 2047 encoded words (UTF-8, Q or B, whichever is shorter) of at most 75 characters,
each holding whole characters and the text's spaces (white space between two encoded words is
not part of the text, so it is free for folding).

Display names are phrases of readable words and encoded words, one encoded word per run of
consecutive non-ASCII words (``Maison =?utf-8?q?=C3=89clair?=``), kept whole even past 75
characters: parsers disagree on the space between two adjacent encoded words of a *phrase* —
RFC 2047 §6.2 drops it, CPython's ``email.policy.default`` parser up to 3.13 keeps it
(gh-128110) — so splitting a run would change the name for one of them. Only a run too long for
a 998-octet line is split into 75-character words. In a display name, a space or tab and any
white space after it are written as one space, and leading and trailing spaces dropped (such runs
mean one space in a phrase, and CPython collapses them even inside encoded words).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses, parseaddr
from itertools import accumulate
from typing import Protocol

_MANAGED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version"}
)
#: Extra headers whose value is a mailbox list: their non-ASCII display names get encoded words.
_ADDRESS_HEADERS = frozenset(
    {"sender", "reply-to", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc"}
)
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")

_CRLF = "\r\n"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LINE = 78  # RFC 5322 §2.1.1: lines SHOULD be at most 78 characters...
_MAX_LINE = 998  # ...and MUST be at most 998
_MAX_NAME = 76  # a header name, its colon and space fit a 78-character line
_WORD = 75  # RFC 2047 §2: the longest encoded word
_QP_LINE = 76  # RFC 2045 §6.7: the longest quoted-printable line
_WORD_OVERHEAD = len("=?utf-8?q??=")
#: The longest display-name encoded word: one that still fits a line after the longest name.
_MAX_PHRASE_WORD = _MAX_LINE - _MAX_NAME - len(": ")
_MAX_ADDR_SPEC = 254  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its brackets

_FIELD_NAME = re.compile(rf"[!-9;-~]{{1,{_MAX_NAME}}}")  # ftext, RFC 5322 §3.6.8
_PRINTABLE = re.compile(r"[ -~]*")
_BLANKS = re.compile(r"[ \t]\s*")  # a space or tab and any white space after it
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ATOM = re.compile(_ATEXT)
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_BARE = rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_BARE_ADDRESS = re.compile(_BARE)
#: ``Name <address>``, the name free of controls and of the specials ``()<>[]:;@\,."``.
_SIMPLE_MAILBOX = re.compile(rf'(?P<name>[^\x00-\x1f()<>\[\]:;@\\,."]*)<(?P<address>{_BARE})>')
_LWS = re.compile(r"[ \t]+")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]+@[!-;=?-~]+>")  # printable ASCII, no spaces or brackets

#: Characters a Q-encoded word carries as themselves (RFC 2047 §5 (3), the strictest context:
#: a phrase); a space is written ``_``; every other byte ``=XX``.
_Q_LITERAL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/"
_Q_COSTS = bytes(1 if byte in _Q_LITERAL or byte == 0x20 else 3 for byte in range(256))
_Q_BYTES = tuple(
    "_" if byte == 0x20 else chr(byte) if byte in _Q_LITERAL else f"={byte:02X}"
    for byte in range(256)
)


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One email to one recipient. ``sender`` and ``to`` may carry a display name
    (``"Maison <shop@example.com>"``); ``message_id`` is a full ``<…@…>`` Message-ID."""

    sender: str
    to: str
    subject: str
    html: str
    text: str
    message_id: str
    headers: Mapping[str, str] = field(default_factory=dict)


class EmailTransport(Protocol):
    """Delivers emails. Raises :class:`relance.channels.errors.DeliveryError` subclasses only."""

    def send(self, email: OutgoingEmail) -> None: ...


def make_message_id(domain: str) -> str:
    """A new globally unique Message-ID, ``<128 random bits as hex@domain>``."""
    if not _DOMAIN.fullmatch(domain):
        raise ValueError("not a valid Message-ID domain")
    return f"<{secrets.token_hex(16)}@{domain}>"


def address_of(mailbox: str) -> str:
    """The ASCII addr-spec of ``"Name <local@domain>"`` (IDN domains in punycode), as used in
    the SMTP envelope. Raises ``ValueError`` if there is none or its local part is not ASCII."""
    return _parsed_mailbox(mailbox)[1]


def _parsed_mailbox(mailbox: str) -> tuple[str, str]:
    """``mailbox``'s display name (``""`` if none) and :func:`address_of` it, parsed once.

    Two common forms skip :func:`parseaddr` (26 µs) with its very result — checked by
    tests/channels/test_mime_roundtrip.py: a bare ASCII ``dot-atom@domain`` (no name, the
    address unchanged), and ``Name <dot-atom@domain>`` whose name has no control character,
    special, quote or comment (the name's runs of spaces and tabs as one space, trimmed).
    """
    if _BARE_ADDRESS.fullmatch(mailbox):
        return "", mailbox
    simple = _SIMPLE_MAILBOX.fullmatch(mailbox)
    if simple:
        return _LWS.sub(" ", simple["name"]).strip(" "), simple["address"]
    name, address = parseaddr(mailbox)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an email address")
    if not local.isascii():
        raise ValueError("non-ASCII local parts need SMTPUTF8, which relance does not use")
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("not a valid email domain") from exc
    return name, f"{local}@{ascii_domain}"


def build_mime(email: OutgoingEmail) -> bytes:
    """The wire form of ``email`` (see the module docstring). Raises ``ValueError`` for an
    invalid address or Message-ID, an invalid or managed header name in ``email.headers``, or a
    header value with a line break."""
    head = _headers(email)
    text = _quoted_printable(email.text)
    html = _quoted_printable(email.html)
    boundary = _boundary(text, html)
    delimiter = b"\r\n--" + boundary
    return b"".join(
        (
            head.encode("ascii"),
            b'Content-Type: multipart/alternative;\r\n boundary="%s"\r\n' % boundary,
            b"\r\n--%s\r\n" % boundary,  # no preamble: the first delimiter opens the body
            _part(b"plain", text),
            delimiter + b"\r\n",
            _part(b"html", html),
            delimiter + b"--\r\n",
        )
    )


# --- the body ---------------------------------------------------------------------------------


def _part(subtype: bytes, encoded: bytes) -> bytes:
    """A text body part: its headers, the blank line, then ``encoded`` (already quoted-printable).
    The CRLF that ends the part belongs to the next delimiter (RFC 2046 §5.1.1)."""
    return (
        b'Content-Type: text/%s; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" % subtype
    ) + encoded


def _quoted_printable(text: str) -> bytes:
    """``text`` in UTF-8, quoted-printable (RFC 2045 §6.7), lines broken by CRLF.

    Invariants: the result is 7-bit; its only line breaks are CRLF — each CRLF, lone CR and lone
    LF of the text becomes one CRLF, a soft break is ``=`` CRLF — so no bare CR or LF remains;
    every line is at most 76 characters; white space ending a line is encoded; decoding gives
    back the text with CRLF line breaks.
    """
    data = text.encode("utf-8")
    if b"\r" in data:  # b2a_qp reads LF as the line break: a CR left in would be encoded
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    encoded = binascii.b2a_qp(data, istext=True)  # LF in, so LF (not CRLF) out, soft breaks too
    if b" \n" in data or (b"\t" in data and b"\t\n" in data):  # "\t" alone is a fast memchr
        encoded = _fit_protected_lines(encoded)
    return encoded.replace(b"\n", b"\r\n")


def _fit_protected_lines(encoded: bytes) -> bytes:
    """``encoded`` (LF line breaks) with each line over 76 characters soft-broken before its
    last ``=XX``.

    b2a_qp lets a line reach 76 characters before a line break and then encodes a space or tab
    ending it as ``=20``/``=09``, two characters more. Such a line ends in that escape, and what
    precedes it is whole characters and escapes, so a soft break there is valid and leaves lines
    of at most 76 and 3 characters.
    """
    lines = encoded.split(b"\n")
    if max(map(len, lines)) <= _QP_LINE:
        return encoded
    return b"\n".join(
        line if len(line) <= _QP_LINE else line[:-3] + b"=\n" + line[-3:] for line in lines
    )


def _boundary(*bodies: bytes) -> bytes:
    """A fresh multipart boundary (RFC 2046 §5.1.1): ``=_`` and 32 hex digits, 34 characters.

    Invariant: ``--`` + boundary occurs in none of ``bodies``. Quoted-printable never contains
    ``=_`` (``=`` is always followed by two hex digits or a line break), so the check only
    guards that invariant against a future change of encoding.
    """
    while True:
        boundary = b"=_" + secrets.token_hex(16).encode("ascii")
        if not any(b"--" + boundary in body for body in bodies):
            return boundary


# --- the header section -----------------------------------------------------------------------


def _headers(email: OutgoingEmail) -> str:
    """Every header but Content-Type, each ending in CRLF, in the order of the module docstring."""
    fields = [
        _address_field("From", email.sender),
        _address_field("To", email.to),
        _text_field("Subject", email.subject),
        f"Date: {_date(datetime.now(UTC))}{_CRLF}",
        _message_id_field(email.message_id),
    ]
    fields.extend(_extra_field(name, value) for name, value in email.headers.items())
    fields.append("MIME-Version: 1.0" + _CRLF)
    return "".join(fields)


def _date(moment: datetime) -> str:
    """``moment`` (UTC) as an RFC 5322 §3.3 date-time, ``Mon, 23 Nov 2026 14:57:07 +0000``: the
    day and month names in English whatever the locale, the zone numeric."""
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} {moment.year} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


def _without_line_breaks(value: str) -> str:
    """``value``, or ``ValueError`` if it holds a CR or LF: a line break in a header value could
    end the header and start another one (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError("header values may not contain line breaks")
    return value


def _extra_field(name: str, value: str) -> str:
    """An ``OutgoingEmail.headers`` entry as a header field.

    The name must be 1 to 76 printable ASCII characters without a colon (RFC 5322 §3.6.8) and
    not one relance manages. A mailbox-list header (Reply-To, Sender, Resent-*) whose value is
    not plain printable ASCII is re-written with encoded display names; any other value is text.
    """
    if not _FIELD_NAME.fullmatch(name):
        raise ValueError(f"not a valid header name: {name!r}")
    lowered = name.lower()
    if lowered in _MANAGED_HEADERS or lowered.startswith("content-"):
        raise ValueError(f"header {name!r} is managed by relance")
    if lowered in _ADDRESS_HEADERS and not _is_plain(_without_line_breaks(value)):
        return _field(_fold(name, _mailbox_list_tokens(value)))
    return _text_field(name, value)


def _message_id_field(message_id: str) -> str:
    """The Message-ID header; ``message_id`` must be ``<left@right>`` in printable ASCII."""
    _without_line_breaks(message_id)
    if len(message_id) > _MAX_LINE - len("Message-ID: ") or not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError("not a valid Message-ID")
    return f"Message-ID: {message_id}{_CRLF}"


def _field(lines: list[str]) -> str:
    """A header field from its folded lines: CRLF after each, so the folds become CRLF + space."""
    return _CRLF.join(lines) + _CRLF


def _fold(name: str, tokens: list[str]) -> list[str]:
    """The lines of ``name: tokens``, tokens separated by single spaces (RFC 5322 §2.2.3).

    Invariants: unfolding (removing each CRLF) gives back ``name: `` + the space-joined tokens;
    a separating space that would carry a line past 78 characters starts the next line instead,
    except before an empty token (a line may not be white space only); the first token always
    stays on the first line (a fold right after the colon would read as a leading space); a
    token is never split, so a line exceeds 78 only if a single token does.
    """
    lines: list[str] = []
    line = f"{name}: {tokens[0]}"
    for token in tokens[1:]:
        if token and len(line) + 1 + len(token) > _LINE:
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
    lines.append(line)
    return lines


# --- unstructured text: Subject and extras ----------------------------------------------------


def _is_plain(text: str) -> bool:
    """Whether ``text`` can be written as itself: printable ASCII, no ``=?`` (readers would try
    it as an encoded word), and no leading or trailing space (readers strip those)."""
    return (
        _PRINTABLE.fullmatch(text) is not None
        and "=?" not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    )


def _text_field(name: str, text: str) -> str:
    """An unstructured header (RFC 5322 §3.2.5): readable if plain and foldable within 998
    octets, else RFC 2047 encoded words of at most 75 characters. Decodes to ``text`` exactly."""
    _without_line_breaks(text)
    if _is_plain(text):
        lines = _fold(name, text.split(" "))
        if all(len(line) <= _MAX_LINE for line in lines):
            return _field(lines)
    first = _LINE - len(name) - len(": ")
    return _field(_fold(name, _encoded_words(text, first=first)))


# --- RFC 2047 encoded words -------------------------------------------------------------------


def _uses_q(data: bytes) -> bool:
    """Whether Q encoding of the UTF-8 ``data`` is no longer than B (RFC 2047 §4)."""
    escaped = len(data.translate(None, _Q_LITERAL + b" "))
    return len(data) + 2 * escaped <= 4 * -(-len(data) // 3)


def _encoded_word(data: bytes, q: bool) -> str:
    """UTF-8 ``data`` as one encoded word, Q if ``q`` else B; its length is not limited here."""
    if q:
        return "=?utf-8?q?" + "".join([_Q_BYTES[byte] for byte in data]) + "?="
    return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="


def _encoded_words(text: str, *, first: int) -> list[str]:
    """Non-empty ``text`` as encoded words, to be separated by folding white space.

    Invariants: each word holds whole characters (so decodes on its own) and at least one; the
    first is at most ``first`` characters long unless its first character alone is longer, the
    others at most 75; concatenating the decoded words gives ``text`` — its spaces are inside
    the words, the white space between them is not text (RFC 2047 §6.2).
    """
    data = text.encode("utf-8")
    q = _uses_q(data)
    first_room, room = first - _WORD_OVERHEAD, _WORD - _WORD_OVERHEAD
    if q:  # each byte costs 1 or 3 characters
        costs: Sequence[int] = [0, *accumulate(data.translate(_Q_COSTS))]
    else:  # 4 characters per 3 bytes: a byte budget of whole groups
        costs, first_room, room = range(len(data) + 1), first_room // 4 * 3, room // 4 * 3
    return [_encoded_word(chunk, q) for chunk in _utf8_chunks(data, costs, first_room, room)]


def _utf8_chunks(data: bytes, costs: Sequence[int], first: int, rest: int) -> list[bytes]:
    """UTF-8 ``data`` cut at character boundaries into chunks costing at most ``first`` (the
    first chunk) or ``rest`` (the others), the cost of ``data[i:j]`` being
    ``costs[j] - costs[i]`` (``costs`` non-decreasing). A chunk holds at least one character
    even if that one costs more. Invariant: the chunks concatenate to ``data``."""
    chunks: list[bytes] = []
    start, room = 0, first
    while costs[-1] - costs[start] > room:
        cut = max(start, bisect_right(costs, costs[start] + room, lo=start) - 1)  # most that fits
        while cut > start and data[cut] & 0xC0 == 0x80:  # a continuation byte: mid-character
            cut -= 1
        if cut == start:  # not even one character fits: take one anyway
            cut += 1
            while cut < len(data) and data[cut] & 0xC0 == 0x80:
                cut += 1
        chunks.append(data[start:cut])
        start, room = cut, rest
    chunks.append(data[start:])
    return chunks


# --- addresses --------------------------------------------------------------------------------


def _address_field(name: str, mailbox: str) -> str:
    """A From or To header for one mailbox ``"Display Name <local@domain>"`` (name optional)."""
    display_name, address = _parsed_mailbox(_without_line_breaks(mailbox))
    return _field(_fold(name, _mailbox_tokens(display_name, address)))


def _mailbox_list_tokens(value: str) -> list[str]:
    """The tokens of a comma-separated mailbox list, each mailbox re-written by
    :func:`_mailbox_tokens`; ``ValueError`` if one has no valid address."""
    tokens: list[str] = []
    for display_name, address in getaddresses([value]):
        if tokens:
            tokens[-1] += ","
        tokens.extend(_mailbox_tokens(display_name, address_of(address)))
    return tokens


def _mailbox_tokens(display_name: str, address: str) -> list[str]:
    """A mailbox (RFC 5322 §3.4) as fold-separated tokens: the bare addr-spec without a display
    name, else the display name's phrase tokens then ``<addr-spec>``.

    In the display name, a space or tab and any white space after it become one space, and
    leading and trailing spaces go: such runs mean one space in a phrase (RFC 5322 §3.2.2), and
    readers disagree on them — CPython collapses them even inside encoded words (``str.lstrip``
    after a space or tab), RFC 2047 readers keep them.
    """
    addr_spec = _addr_spec(address)
    display_name = _BLANKS.sub(" ", display_name).strip(" ")
    if not display_name:
        return [addr_spec]
    return [*_phrase_tokens(display_name), f"<{addr_spec}>"]


def _addr_spec(address: str) -> str:
    """The ASCII ``local@domain`` with its local part quoted unless it is a dot-atom; at most
    254 octets (a longer one is no address, and could not fit a line)."""
    local, _, domain = address.rpartition("@")
    if not _DOT_ATOM.fullmatch(local):
        local = _quoted(local)
    addr_spec = f"{local}@{domain}"
    if len(addr_spec) > _MAX_ADDR_SPEC or not _PRINTABLE.fullmatch(addr_spec):
        raise ValueError("not an email address")
    return addr_spec


def _quoted(text: str) -> str:
    """``text`` as a quoted-string: backslash and double quote escaped (RFC 5322 §3.2.4)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readable_word(word: str) -> str | None:
    """A space-free word of a display name as an atom, else a quoted-string; ``None`` if it
    needs encoding: not printable ASCII, too long to fold, or holding ``=?`` (CPython decodes
    encoded words even inside quoted-strings)."""
    if len(word) > _WORD - 2 or "=?" in word or not _PRINTABLE.fullmatch(word):
        return None
    return word if _ATOM.fullmatch(word) else _quoted(word)


def _phrase_tokens(display_name: str) -> list[str]:
    """A display name — single spaces between non-empty words — as phrase tokens (RFC 5322
    §3.2.5) to be separated by single spaces.

    Readable words become atoms or quoted-strings; each run of consecutive other words becomes
    one encoded word (:func:`_encoded_run`), so encoded words of different runs are never
    adjacent and every separating space is a space of the name. Invariant: RFC 2047 readers and
    CPython's parser both decode the tokens to ``display_name``.
    """
    tokens: list[str] = []
    run: list[str] = []
    for word in display_name.split(" "):
        readable = _readable_word(word)
        if readable is None:
            run.append(word)
            continue
        if run:
            tokens.extend(_encoded_run(" ".join(run)))
            run = []
        tokens.append(readable)
    if run:
        tokens.extend(_encoded_run(" ".join(run)))
    return tokens


def _encoded_run(text: str) -> list[str]:
    """Part of a display name as one encoded word (see the module docstring on gh-128110), or
    as 75-character words if one would not fit a 998-octet line."""
    data = text.encode("utf-8")
    word = _encoded_word(data, _uses_q(data))
    if len(word) <= _MAX_PHRASE_WORD:
        return [word]
    return _encoded_words(text, first=_WORD)
