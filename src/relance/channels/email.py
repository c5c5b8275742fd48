"""An outgoing email, the transport protocol every email channel implements, and its MIME form.

:func:`build_mime` is the single place where an :class:`OutgoingEmail` becomes bytes on the wire:
``multipart/alternative`` (text first, HTML last, as RFC 2046 orders preference), UTF-8 bodies in
quoted-printable (7-bit clean, so no 8BITMIME is needed), CRLF line endings and lines of at most
78 characters (``email.policy.SMTP``). The headers relance manages (From, To, Cc, Bcc, Subject,
Date, Message-ID, MIME-Version and Content-*) cannot be overridden through
``OutgoingEmail.headers``.

Non-ASCII header values are encoded as RFC 2047 words by :class:`email.header.Header`, and
display names as a single word by :func:`email.utils.formataddr` (parsers disagree on spaces
between the words of a phrase): the folding of ``email.policy.SMTP`` itself (CPython 3.11)
drops the space between two encoded words and so changes subjects and display names. A display
name's line may therefore exceed 78 characters, within RFC 5322's 998.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Protocol

_MANAGED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version"}
)
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")


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
    _name, address = parseaddr(mailbox)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError("not an email address")
    if not local.isascii():
        raise ValueError("non-ASCII local parts need SMTPUTF8, which relance does not use")
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("not a valid email domain") from exc
    return f"{local}@{ascii_domain}"


def build_mime(email: OutgoingEmail) -> bytes:
    """The wire form of ``email`` (see the module docstring). Raises ``ValueError`` for an
    invalid address, a managed header in ``email.headers`` or a header value with a line break."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = _mailbox(email.sender)
    message["To"] = _mailbox(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = email.message_id
    for name, value in email.headers.items():
        lowered = name.lower()
        if lowered in _MANAGED_HEADERS or lowered.startswith("content-"):
            raise ValueError(f"header {name!r} is managed by relance")
        message[name] = value
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes()


def _mailbox(mailbox: str) -> Address:
    name, _address = parseaddr(mailbox)
    local, _, domain = address_of(mailbox).rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


class _SmtpPolicy(EmailPolicy):
    """``email.policy.SMTP`` whose free-text headers keep their exact text on the wire.

    Free-text (unstructured) values are stored as given — the stock policy would decode any
    ``=?…?=`` in them as if it were an encoded word — and folded by :meth:`_words`; non-ASCII
    address headers get one encoded word per display name.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if isinstance(value, str) and issubclass(_REGISTRY[name], UnstructuredHeader):
            if "\r" in value or "\n" in value:
                raise ValueError("header values may not contain line breaks")
            return (name, value)
        return super().header_store_parse(name, value)

    def fold(self, name: str, value: Any) -> str:
        return self._encoded(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        encoded = self._encoded(name, value)
        return encoded.encode("ascii") if encoded else super().fold_binary(name, value)

    def _encoded(self, name: str, value: Any) -> str | None:
        if not hasattr(value, "name"):  # a free-text value kept as given
            return f"{name}: {self._words(name, str(value))}{self.linesep}"
        addresses = getattr(value, "addresses", None)
        if addresses is None or str(value).isascii():
            return None
        body = f",{self.linesep} ".join(
            formataddr((address.display_name, address.addr_spec), charset="utf-8")
            for address in addresses
        )
        return f"{name}: {body}{self.linesep}"

    def _words(self, name: str, text: str) -> str:
        """Folded at spaces; encoded only when needed: non-ASCII, or text that a reader
        would otherwise decode as an encoded word (``=?``)."""
        charset = "us-ascii" if text.isascii() and "=?" not in text else "utf-8"
        header = Header(text, charset, header_name=name, maxlinelen=self.max_line_length)
        folded = header.encode(linesep=self.linesep)
        # a first word too long for the first line is still written there: a fold right after
        # the colon would make readers see a leading space
        return folded.removeprefix(self.linesep + " ")


_REGISTRY = HeaderRegistry()
_POLICY = _SmtpPolicy(linesep=SMTP.linesep, max_line_length=SMTP.max_line_length)
