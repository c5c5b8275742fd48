"""Email delivery over SMTP, one reused connection per thread.

URLs: ``smtp://[user:pass@]host[:port]`` (plain, port 25), ``smtp+starttls://…`` (STARTTLS,
587) and ``smtps://…`` (implicit TLS, 465). User and password are percent-decoded.

Each thread keeps its connection open between messages. A kept connection the server has closed
in the meantime is noticed at the envelope (MAIL FROM), before anything could be accepted, and is
replaced once. The message itself is written only after the server answered 354 to DATA, so
failures are classified by what the server can have done with it:

- before the final ``.`` was sent, or a 4xx reply: :class:`TransientDeliveryError` — as are all
  connection, TLS and login failures, whatever their code: they are not about the message;
- a 5xx reply to MAIL FROM, RCPT TO or DATA: :class:`PermanentDeliveryError`;
- the whole message written, then no reply (timeout, reset): :class:`DeliveryOutcomeUnknown`.

Error messages quote the server's reply with email addresses masked.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from relance.channels.email import OutgoingEmail, address_of, build_mime
from relance.channels.errors import (
    DeliveryError,
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)

Security = Literal["plain", "starttls", "tls"]

_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")
_LINE_START_DOT = re.compile(rb"^\.", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SmtpEndpoint:
    """Where and how to connect; the password never appears in ``repr``."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """Parse an SMTP URL (see the module docstring). Raises ``ValueError`` without echoing it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError("SMTP URL scheme must be smtp, smtp+starttls or smtps")
    if not parts.hostname:
        raise ValueError("SMTP URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("SMTP URL takes no path, query or fragment")
    security, default_port = _SCHEMES[scheme]
    try:
        port = parts.port
    except ValueError:
        raise ValueError("SMTP URL has an invalid port") from None  # its text may hold secrets
    return SmtpEndpoint(
        host=parts.hostname,
        port=port or default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class _Dropped(Exception):
    """The connection failed before the server could have accepted the message."""


class SmtpTransport:
    """An :class:`relance.channels.email.EmailTransport` for an SMTP server. Thread-safe."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.endpoint = parse_smtp_url(url)
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: set[smtplib.SMTP] = set()

    def __repr__(self) -> str:
        endpoint = self.endpoint
        return f"SmtpTransport({endpoint.security} {endpoint.host}:{endpoint.port})"

    def send(self, email: OutgoingEmail) -> None:
        """Deliver ``email`` to the envelope recipient ``email.to`` from ``email.sender``'s
        address. Returns once the server accepted it; raises a :class:`DeliveryError` otherwise."""
        try:
            sender, recipient = address_of(email.sender), address_of(email.to)
            data = build_mime(email)
        except ValueError as exc:
            raise PermanentDeliveryError(f"message cannot be sent: {exc}") from exc
        connection, reused = self._connection()
        try:
            self._transmit(connection, sender, recipient, data)
        except _Dropped as exc:
            self._discard(connection)
            if not reused:
                raise TransientDeliveryError(f"connection lost: {exc}") from exc
            connection, _ = self._connection()  # the kept one had gone stale: one retry
            try:
                self._transmit(connection, sender, recipient, data)
            except _Dropped as retry_exc:
                self._discard(connection)
                raise TransientDeliveryError(f"connection lost: {retry_exc}") from retry_exc

    def close(self) -> None:
        """Close every thread's connection. The transport stays usable: it reconnects."""
        with self._lock:
            connections, self._connections = self._connections, set()
            self._local = threading.local()
        for connection in connections:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.quit()
            connection.close()

    def _connection(self) -> tuple[smtplib.SMTP, bool]:
        connection: smtplib.SMTP | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        connection = self._connect()
        with self._lock:
            self._local.connection = connection
            self._connections.add(connection)
        return connection, False

    def _connect(self) -> smtplib.SMTP:
        endpoint = self.endpoint
        connection: smtplib.SMTP | None = None
        try:
            if endpoint.security == "tls":
                connection = smtplib.SMTP_SSL(
                    endpoint.host,
                    endpoint.port,
                    timeout=self.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                connection = smtplib.SMTP(endpoint.host, endpoint.port, timeout=self.timeout)
            connection.ehlo()
            if endpoint.security == "starttls":
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if endpoint.username:
                connection.login(endpoint.username, endpoint.password or "")
        except smtplib.SMTPResponseException as exc:
            _close_quietly(connection)
            raise TransientDeliveryError(
                f"cannot connect: {exc.smtp_code} {_reply_text(exc.smtp_error)}",
                smtp_code=exc.smtp_code,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(connection)
            raise TransientDeliveryError(f"cannot connect: {type(exc).__name__}") from exc
        return connection

    def _discard(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            self._connections.discard(connection)
            if getattr(self._local, "connection", None) is connection:
                self._local.connection = None
        _close_quietly(connection)

    def _transmit(self, connection: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
        try:
            code, reply = connection.mail(sender)
            if code == 421:
                raise _Dropped("421 at MAIL FROM")  # a server closing an idle connection
            self._expect(connection, "MAIL FROM", code, reply, (250,))
            code, reply = connection.rcpt(recipient)
            self._expect(connection, "RCPT TO", code, reply, (250, 251))
            code, reply = connection.docmd("DATA")
            self._expect(connection, "DATA", code, reply, (354,))
            connection.send(_dot_stuffed(data))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise _Dropped(type(exc).__name__) from exc
        try:
            code, reply = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._discard(connection)
            raise DeliveryOutcomeUnknown(
                f"no reply after the message was sent: {type(exc).__name__}"
            ) from exc
        if code != 250:
            raise _refused("message", code, reply)

    def _expect(
        self,
        connection: smtplib.SMTP,
        stage: str,
        code: int,
        reply: bytes,
        accepted: tuple[int, ...],
    ) -> None:
        """Raise the error for a refused envelope step, after resetting the transaction."""
        if code not in accepted:
            self._reset(connection)
            raise _refused(stage, code, reply)

    def _reset(self, connection: smtplib.SMTP) -> None:
        """End a refused transaction so the connection can carry the next message."""
        try:
            code, _reply = connection.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self._discard(connection)


def _refused(stage: str, code: int, reply: bytes) -> DeliveryError:
    message = f"{stage} refused: {code} {_reply_text(reply)}"
    if 500 <= code < 600:
        return PermanentDeliveryError(message, smtp_code=code)
    return TransientDeliveryError(message, smtp_code=code)


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return _ADDRESS.sub("<address>", " ".join(text.split()))


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload: leading dots doubled, CRLF-terminated, then the lone-dot end line."""
    stuffed = _LINE_START_DOT.sub(b"..", data)
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _close_quietly(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.close()
