import asyncio
import smtplib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relance.channels.email import OutgoingEmail, make_message_id
from relance.channels.errors import (
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.channels.sink import MailSink
from relance.channels.smtp import SmtpEndpoint, SmtpTransport, parse_smtp_url
from tests.fixtures.smtp import SmtpSink, free_port


def outgoing(to: str = "Jonas Becker <jonas.becker@example.de>") -> OutgoingEmail:
    return OutgoingEmail(
        sender="Maison Example <bonjour@maison.example>",
        to=to,
        subject="Vielen Dank für Ihre Bestellung \u2013 Größe M",
        html="<p>Hallo Jonas, danke für Ihre Bestellung.</p>",
        text="Hallo Jonas,\n.\nDanke für Ihre Bestellung.\n",
        message_id=make_message_id("maison.example"),
    )


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection smtplib opens, as (host, port)."""
    opened: list[tuple[str, int]] = []
    real_connect = smtplib.SMTP.connect

    def counting_connect(self: smtplib.SMTP, host: str = "localhost", port: int = 0, **kw: Any):  # type: ignore[no-untyped-def]
        opened.append((host, port))
        return real_connect(self, host, port, **kw)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    return opened


def test_a_sent_email_arrives_intact(smtp_sink: SmtpSink) -> None:
    # given a transport to a real SMTP server
    transport = SmtpTransport(smtp_sink.url)
    email = outgoing()
    # when an email is sent
    transport.send(email)
    transport.close()
    # then what arrived is the same email, with the envelope built from the addresses
    [mail] = smtp_sink.wait_for(1)
    assert mail.mail_from == "bonjour@maison.example"
    assert mail.rcpt_tos == ["jonas.becker@example.de"]
    message = mail.message
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Vielen Dank für Ihre Bestellung \u2013 Größe M"
    assert message["Message-ID"] == email.message_id
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None
    assert text is not None
    assert "danke für Ihre Bestellung" in html.get_content()
    # a line holding only a dot survives the SMTP dot-stuffing
    assert text.get_content().replace("\r\n", "\n") == email.text


def test_sends_from_one_thread_reuse_one_connection(
    smtp_sink: SmtpSink, connects: list[tuple[str, int]]
) -> None:
    # given a transport
    transport = SmtpTransport(smtp_sink.url)
    # when two emails are sent one after the other
    transport.send(outgoing())
    transport.send(outgoing("lena@example.de"))
    transport.close()
    # then both arrived over a single connection
    assert len(smtp_sink.wait_for(2)) == 2
    assert connects == [("127.0.0.1", smtp_sink.port)]


def test_each_thread_has_its_own_connection(
    smtp_sink: SmtpSink, connects: list[tuple[str, int]]
) -> None:
    # given one transport shared by two threads
    transport = SmtpTransport(smtp_sink.url)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                transport.send(outgoing())
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    # when each sends three emails
    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    transport.close()
    # then all six arrived over two connections
    assert failures == []
    assert len(smtp_sink.wait_for(6)) == 6
    assert len(connects) == 2


@pytest.mark.parametrize(
    ("reply", "error", "code"),
    [
        ("451 4.3.0 Try again later", TransientDeliveryError, 451),
        ("452 4.3.1 Insufficient system storage", TransientDeliveryError, 452),
        ("554 5.7.1 Rejected", PermanentDeliveryError, 554),
    ],
)
def test_refusals_map_to_transient_or_permanent(
    smtp_sink: SmtpSink, reply: str, error: type[Exception], code: int
) -> None:
    # given a server that refuses messages with a reply
    smtp_sink.reply = reply
    transport = SmtpTransport(smtp_sink.url)
    # when sending / then the error class follows the reply code, which it carries
    with pytest.raises(error) as failure:
        transport.send(outgoing())
    assert failure.value.smtp_code == code  # type: ignore[attr-defined]
    # and the connection still carries the next message once the server accepts again
    smtp_sink.reply = None
    transport.send(outgoing())
    transport.close()
    assert len(smtp_sink.wait_for(1)) == 1


def test_a_closed_port_is_transient() -> None:
    # given nothing listening on a port
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}", timeout=5)
    # when sending / then it is worth trying again later
    with pytest.raises(TransientDeliveryError) as failure:
        transport.send(outgoing())
    assert failure.value.smtp_code is None


class RefuseRecipient:
    """Rejects one mailbox at RCPT TO, quoting it (as real servers do)."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address == "gone@example.de":
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def test_a_rejected_recipient_is_permanent_and_its_address_stays_out_of_the_error(
    smtp_server: Callable[[Any], str], connects: list[tuple[str, int]]
) -> None:
    # given a server that does not know one recipient
    transport = SmtpTransport(smtp_server(RefuseRecipient()))
    # when sending to that recipient
    with pytest.raises(PermanentDeliveryError) as failure:
        transport.send(outgoing("Gone <gone@example.de>"))
    # then it is permanent, and the message quotes the reply without the address
    assert failure.value.smtp_code == 550
    assert "Recipient address rejected" in str(failure.value)
    assert "gone@" not in str(failure.value)
    # and the connection, reset, carries the next message
    transport.send(outgoing())
    transport.close()
    assert len(connects) == 1


class SlowToAnswer:
    """Takes the message, then does not answer in time."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(2)
        return "250 OK"


def test_no_reply_after_the_message_was_sent_is_an_unknown_outcome(
    smtp_server: Callable[[Any], str],
) -> None:
    # given a server that receives the whole message but answers too late
    transport = SmtpTransport(smtp_server(SlowToAnswer()), timeout=0.5)
    # when sending / then the outcome is unknown: neither retried nor failed
    with pytest.raises(DeliveryOutcomeUnknown) as failure:
        transport.send(outgoing())
    assert not isinstance(failure.value, TransientDeliveryError | PermanentDeliveryError)
    transport.close()


def test_a_connection_the_server_dropped_is_replaced_once(
    tmp_path: Path, connects: list[tuple[str, int]]
) -> None:
    # given a transport whose kept connection the server closes (here: a restart)
    port = free_port()
    sink = MailSink(tmp_path / "mailbox", port=port)
    sink.start()
    transport = SmtpTransport(sink.url, timeout=5)
    transport.send(outgoing())
    sink.stop()
    sink.start()
    # when the next email is sent
    try:
        transport.send(outgoing())
    finally:
        transport.close()
        sink.stop()
    # then it went through on a second connection
    assert len(list((tmp_path / "mailbox" / "new").iterdir())) == 2
    assert len(connects) == 2


def test_close_then_send_reconnects(smtp_sink: SmtpSink, connects: list[tuple[str, int]]) -> None:
    # given a transport that sent and was closed
    transport = SmtpTransport(smtp_sink.url)
    transport.send(outgoing())
    transport.close()
    # when it sends again / then it opens a new connection
    transport.send(outgoing())
    transport.close()
    assert len(smtp_sink.wait_for(2)) == 2
    assert len(connects) == 2


def test_an_invalid_recipient_is_permanent_without_connecting(
    connects: list[tuple[str, int]],
) -> None:
    # given an email whose recipient is not an address
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}")
    # when sending / then it is refused for good before any connection
    with pytest.raises(PermanentDeliveryError):
        transport.send(outgoing("not an address"))
    assert connects == []


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("smtp://mail.example.com", SmtpEndpoint("mail.example.com", 25, "plain")),
        ("smtp://127.0.0.1:2525", SmtpEndpoint("127.0.0.1", 2525, "plain")),
        (
            "smtp+starttls://u%40x:p%3Ass@smtp.example.com",
            SmtpEndpoint("smtp.example.com", 587, "starttls", "u@x", "p:ss"),
        ),
        ("SMTPS://apikey:secret@[::1]", SmtpEndpoint("::1", 465, "tls", "apikey", "secret")),
    ],
)
def test_smtp_urls(url: str, endpoint: SmtpEndpoint) -> None:
    # given an SMTP URL / when parsed / then host, port, security and credentials are read
    assert parse_smtp_url(url) == endpoint


@pytest.mark.parametrize(
    "url",
    [
        "http://x",
        "smtp://",
        "smtp://host/path",
        "smtp://host?tls=1",
        "smtp://h:99999",
        "smtp://user:pa/ss@host",  # an unescaped "/" makes the password part look like a port
    ],
)
def test_invalid_smtp_urls_are_refused_without_echoing_them(url: str) -> None:
    # given a malformed URL / when parsed / then ValueError, quoting nothing of the URL
    with pytest.raises(ValueError, match="SMTP URL") as failure:
        parse_smtp_url(url)
    assert "pa" not in str(failure.value).replace("path", "")


def test_the_password_is_never_shown() -> None:
    # given a transport with credentials
    transport = SmtpTransport("smtp+starttls://user:hunter2@smtp.example.com")
    # when printed / then the password is absent
    assert "hunter2" not in repr(transport)
    assert "hunter2" not in repr(transport.endpoint)
