"""``python -m bench.mime``: µs per message of :func:`relance.channels.email.build_mime`, against
the ``email``-package builder it replaced (kept below, measured in the same run, same inputs).

Inputs are real: the packaged post-purchase design rendered in German for the demo order (the
message relance sends per order), and the same order with its lines repeated to make a ~30 KB
message. Runs alternate between the builders; the best and the median run are printed.
Options: ``--n`` messages per run (default 300), ``--runs`` (default 7).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import format_datetime, parseaddr
from typing import Any

from relance.channels.email import OutgoingEmail, address_of, build_mime, make_message_id

# --- the previous builder, verbatim but for names: EmailMessage + a customised SMTP policy -----

_MANAGED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version"}
)


def build_mime_email_package(email: OutgoingEmail) -> bytes:
    """The wire form as the ``email`` package writes it (relance's builder until this change)."""
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
    """``email.policy.SMTP`` whose free-text headers keep their exact text on the wire."""

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
        from email.utils import formataddr

        if not hasattr(value, "name"):
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
        charset = "us-ascii" if text.isascii() and "=?" not in text else "utf-8"
        header = Header(text, charset, header_name=name, maxlinelen=self.max_line_length)
        folded = header.encode(linesep=self.linesep)
        return folded.removeprefix(self.linesep + " ")


_REGISTRY = HeaderRegistry()
_POLICY = _SmtpPolicy(linesep=SMTP.linesep, max_line_length=SMTP.max_line_length)


# --- inputs ------------------------------------------------------------------------------------


def order_email(line_copies: int) -> OutgoingEmail:
    """The post-purchase email for the demo order (German), its lines repeated ``line_copies``
    times."""
    from relance.demo.order import sample_order
    from relance.plugin.saleor.mapping import order_created_event
    from relance.templates.library import DesignLibrary
    from relance.templates.renderer import EmailRenderer

    event = order_created_event(sample_order())
    assert event.order is not None
    order = event.order.model_copy(update={"lines": event.order.lines * line_copies})
    contact = event.contact
    context = {
        "contact": {
            "email": contact.email,
            "first_name": contact.first_name or "",
            "last_name": contact.last_name or "",
            "language": contact.language or "",
        },
        "order": order.model_dump(mode="json"),
        "store": {"name": "Maison Éclair"},
    }
    rendered = EmailRenderer(DesignLibrary()).render(
        "post_purchase", language="de", default_language="en", context=context
    )
    return OutgoingEmail(
        sender="Maison Éclair <bonjour@maison.example>",
        to=f"{contact.first_name} {contact.last_name} <{contact.email}>",
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        message_id=make_message_id("maison.example"),
        headers={"List-Unsubscribe": "<https://relance.example/u/0123456789abcdef>"},
    )


# --- measurement -------------------------------------------------------------------------------


def same_message(new: bytes, old: bytes) -> bool:
    """Whether both wire forms parse to the same headers and bodies (bar the Date)."""
    a, b = (email.message_from_bytes(data, policy=email.policy.default) for data in (new, old))
    assert isinstance(a, EmailMessage)
    assert isinstance(b, EmailMessage)
    headers = ("From", "To", "Subject", "Message-ID", "List-Unsubscribe")
    if any(str(a[name]) != str(b[name]) for name in headers):
        return False
    bodies = [
        [part.get_content().replace("\r\n", "\n").rstrip("\n") for part in message.iter_parts()]
        for message in (a, b)
    ]
    return bodies[0] == bodies[1]  # the old builder added a final newline to each body


def per_message_us(
    build: Callable[[OutgoingEmail], bytes], message: OutgoingEmail, n: int
) -> float:
    start = time.perf_counter()
    for _ in range(n):
        build(message)
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mime")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"# build_mime micro-benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    print(f"# {args.runs} alternating runs of {args.n} messages; µs per message, best / median")
    builders = {"email package (before)": build_mime_email_package, "build_mime (now)": build_mime}
    for label, message in (
        ("demo order, 2 lines", order_email(1)),
        ("demo order, 12 lines", order_email(6)),
    ):
        new, old = build_mime(message), build_mime_email_package(message)
        assert same_message(new, old), "the builders disagree"
        for build in builders.values():  # warm-up
            per_message_us(build, message, max(1, args.n // 10))
        times: dict[str, list[float]] = {name: [] for name in builders}
        for _ in range(args.runs):
            for name, build in builders.items():
                times[name].append(per_message_us(build, message, args.n))
        print(
            f"\n{label}: html {len(message.html.encode()) / 1024:.1f} KiB, "
            f"wire {len(new) / 1024:.1f} KiB now / {len(old) / 1024:.1f} KiB before"
        )
        for name, values in times.items():
            print(f"  {name:24} {min(values):8.1f} / {statistics.median(values):8.1f} µs")
        before, now = (statistics.median(values) for values in times.values())
        print(f"  speed-up (medians)       {before / now:8.1f} x")


if __name__ == "__main__":
    main()
