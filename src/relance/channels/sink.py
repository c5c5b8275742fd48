"""The embedded mode's local SMTP sink: an aiosmtpd server that files every message in a Maildir.

With no ``RELANCE_SMTP_URL``, relance sends to this sink instead of the internet, and the
``/mailbox`` pages read what it stored. The Maildir on disk is the only shared state, so the sink,
the web process and the workers may live in different processes. Messages are stored as
received, preceded by ``Return-Path`` and one ``Delivered-To`` per envelope recipient.
"""

from __future__ import annotations

import mailbox
import socket
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

_ACCEPTED = "250 2.0.0 Message accepted for delivery"
_NOT_STORED = "451 4.3.0 Message could not be stored, try again later"


class _MaildirHandler:
    """aiosmtpd handler: one Maildir file per message, written atomically (tmp/ then new/)."""

    def __init__(self, maildir: Path) -> None:
        maildir.parent.mkdir(parents=True, exist_ok=True)  # Maildir() creates only the last level
        self._maildir = mailbox.Maildir(maildir, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        trace = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {recipient}\r\n" for recipient in envelope.rcpt_tos
        )
        try:
            self._maildir.add(trace.encode("utf-8", "surrogateescape") + content)
        except OSError:
            return _NOT_STORED
        return _ACCEPTED


def _check_bindable(host: str, port: int) -> None:
    """Fail at once if the address is taken (aiosmtpd would only report it after a 5 s wait)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
        probe.bind((host, port))


class MailSink:
    """A local SMTP server storing what it receives in the Maildir at ``maildir``.

    ``start()`` returns once the server accepts connections (``OSError`` if the address is
    taken); ``stop()`` closes it. Both are idempotent. Usable as a context manager.
    """

    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.maildir = maildir
        self.host = host
        self.port = port
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The ``smtp://host:port`` URL to give :class:`relance.channels.smtp.SmtpTransport`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"smtp://{host}:{self.port}"

    def start(self) -> None:
        if self._controller is not None:
            return
        _check_bindable(self.host, self.port)
        controller = Controller(
            _MaildirHandler(self.maildir),
            hostname=self.host,
            port=self.port,
            server_hostname="relance-sink.localhost",
            server_kwargs={"enable_SMTPUTF8": True},
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> MailSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
