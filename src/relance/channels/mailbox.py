"""Reading the Maildir the local sink writes (see sink.py), for the ``/mailbox`` pages.

Keys are Maildir file names without their ``:2,…`` flags. A key from a request is never joined
to a path: it must look like a Maildir key and is then looked up among the files actually listed
in ``new/`` and ``cur/``, so ``../x`` or ``/etc/passwd`` simply do not exist. Messages sort by
arrival (file modification time), newest first.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.,=\\-]{0,254}", re.ASCII)


@dataclass(frozen=True, slots=True)
class StoredMail:
    """One received message. ``date`` is its Date header (UTC if it has no zone), or its
    arrival time when it has none; ``html``/``text`` are decoded with ``\n`` line ends, empty
    when that part is missing; ``raw`` is the file as stored."""

    key: str
    subject: str
    sender: str
    to: str
    date: datetime
    html: str
    text: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    path: Path
    arrived_ns: int


def list_messages(maildir: Path, limit: int = 200) -> list[StoredMail]:
    """The ``limit`` most recently arrived messages, newest first; none if there is no Maildir."""
    entries = sorted(_entries(maildir), key=lambda e: (e.arrived_ns, e.key), reverse=True)
    messages = []
    for entry in entries[: max(limit, 0)]:
        stored = _read(entry)
        if stored is not None:
            messages.append(stored)
    return messages


def get_message(maildir: Path, key: str) -> StoredMail | None:
    """The message stored under ``key``, or ``None`` if there is none (or the key is invalid)."""
    if not _KEY.fullmatch(key):
        return None
    for entry in _entries(maildir):
        if entry.key == key:
            return _read(entry)
    return None


def _entries(maildir: Path) -> list[_Entry]:
    entries = []
    for folder in (maildir / "new", maildir / "cur"):
        try:
            listing = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for item in listing:
            key = item.name.split(":", 1)[0]
            if not _KEY.fullmatch(key):
                continue
            try:
                if item.is_file():
                    entries.append(_Entry(key, Path(item.path), item.stat().st_mtime_ns))
            except FileNotFoundError:
                continue  # moved or deleted since the listing
    return entries


def _read(entry: _Entry) -> StoredMail | None:
    try:
        raw = entry.path.read_bytes()
    except FileNotFoundError:
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    arrived = datetime.fromtimestamp(entry.arrived_ns / 1e9, UTC)
    return StoredMail(
        key=entry.key,
        subject=_header(message, "Subject"),
        sender=_header(message, "From"),
        to=_header(message, "To") or _header(message, "Delivered-To"),
        date=_date(message) or arrived,
        html=_body(message, "html"),
        text=_body(message, "plain"),
        raw=raw,
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, ""))
    except (ValueError, TypeError, IndexError):  # a header too broken to parse
        return ""


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None)
    except (ValueError, TypeError, IndexError):
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if not isinstance(part, EmailMessage):
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):  # unknown charset, bad encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""
