import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from relance.channels.email import OutgoingEmail, make_message_id
from relance.channels.mailbox import get_message, list_messages
from relance.channels.sink import MailSink
from relance.channels.smtp import SmtpTransport
from tests.fixtures.smtp import free_port


def outgoing(subject: str, to: str = "jonas@example.de") -> OutgoingEmail:
    return OutgoingEmail(
        sender="Maison Example <bonjour@maison.example>",
        to=to,
        subject=subject,
        html=f"<h1>{subject}</h1>",
        text=f"{subject}\n",
        message_id=make_message_id("maison.example"),
    )


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "mailbox"  # parents do not exist yet: the sink creates them


@pytest.fixture
def sink(maildir: Path) -> Iterator[MailSink]:
    sink = MailSink(maildir, port=free_port())
    sink.start()
    yield sink
    sink.stop()


def test_the_sink_files_what_it_receives_in_a_maildir(sink: MailSink, maildir: Path) -> None:
    # given a running sink and a transport pointed at it
    transport = SmtpTransport(sink.url)
    # when an email is sent
    transport.send(outgoing("Größe M ist unterwegs"))
    transport.close()
    # then it is a file in new/ and the mailbox reads it back
    assert len(list((maildir / "new").iterdir())) == 1
    [mail] = list_messages(maildir)
    assert mail.subject == "Größe M ist unterwegs"
    assert mail.sender == "Maison Example <bonjour@maison.example>"
    assert mail.to == "jonas@example.de"
    assert mail.html == "<h1>Größe M ist unterwegs</h1>"  # bodies arrive exactly as given
    assert mail.text == "Größe M ist unterwegs\n"
    assert mail.date.tzinfo is not None
    assert mail.raw.startswith(b"Return-Path: <bonjour@maison.example>\r\n")
    assert b"Delivered-To: jonas@example.de\r\n" in mail.raw
    assert get_message(maildir, mail.key) == mail


def test_the_url_names_host_and_port(maildir: Path) -> None:
    # given sinks on IPv4 and IPv6 / then their URLs are valid SMTP URLs
    assert MailSink(maildir, port=2525).url == "smtp://127.0.0.1:2525"
    assert MailSink(maildir, host="::1", port=2525).url == "smtp://[::1]:2525"


def test_start_and_stop_are_idempotent(maildir: Path) -> None:
    # given a sink / when started and stopped twice / then nothing fails
    sink = MailSink(maildir, port=free_port())
    sink.start()
    sink.start()
    sink.stop()
    sink.stop()


def test_a_taken_port_fails_loudly(sink: MailSink, maildir: Path) -> None:
    # given a port already in use / when a second sink starts there / then it raises
    with pytest.raises(OSError, match="in use"):
        MailSink(maildir, port=sink.port).start()


def test_messages_list_newest_first_up_to_the_limit(sink: MailSink, maildir: Path) -> None:
    # given three emails that arrived one after the other
    transport = SmtpTransport(sink.url)
    for index in range(3):
        transport.send(outgoing(f"message {index}"))
    transport.close()
    for age, path in enumerate(sorted((maildir / "new").iterdir(), key=os.path.getmtime)):
        os.utime(path, ns=(age * 10**9, age * 10**9))  # arrival order, a second apart
    # when listing
    subjects = [mail.subject for mail in list_messages(maildir)]
    two = [mail.subject for mail in list_messages(maildir, limit=2)]
    # then the newest come first
    assert subjects == ["message 2", "message 1", "message 0"]
    assert two == ["message 2", "message 1"]


def test_messages_moved_to_cur_are_still_read(sink: MailSink, maildir: Path) -> None:
    # given a message a mail client has seen (moved to cur/ with flags)
    transport = SmtpTransport(sink.url)
    transport.send(outgoing("seen"))
    transport.close()
    [path] = (maildir / "new").iterdir()
    path.rename(maildir / "cur" / f"{path.name}:2,S")
    # when reading / then it is there under the same key
    [mail] = list_messages(maildir)
    assert mail.key == path.name
    assert get_message(maildir, path.name) is not None


@pytest.mark.parametrize(
    "key", ["../x", "..", ".", "/etc/passwd", "new/x", "", "x" * 300, "a\x00b", "missing.key"]
)
def test_unknown_and_path_like_keys_find_nothing(sink: MailSink, maildir: Path, key: str) -> None:
    # given a mailbox with one message and a file outside it
    transport = SmtpTransport(sink.url)
    transport.send(outgoing("inside"))
    transport.close()
    (maildir.parent / "x").write_text("Subject: outside\r\n\r\nsecret\r\n")
    # when looking a key up / then only real Maildir keys match
    assert get_message(maildir, key) is None


def test_no_maildir_means_no_messages(tmp_path: Path) -> None:
    # given a folder the sink never wrote to / when listing / then it is empty
    assert list_messages(tmp_path / "nothing") == []
    assert get_message(tmp_path / "nothing", "1.M1P1Q1.host") is None
