import mailbox
import os
import re
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # This Starlette asks for httpx2 instead of httpx (not installed); the client works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from relance.channels.email import OutgoingEmail, build_mime, make_message_id
from relance.handlers.mailbox import routes
from relance.settings import Settings

HOSTILE = "<script>alert('x')</script>"


def deliver(maildir: Path, *, subject: str, to: str = "jonas@example.de", html: str = "") -> str:
    """File an email in the Maildir exactly as the sink does; returns its key."""
    email = OutgoingEmail(
        sender="Maison Example <bonjour@maison.example>",
        to=to,
        subject=subject,
        html=html or f"<h1>{subject}</h1>",
        text=f"Hallo,\n{subject}\n",
        message_id=make_message_id("maison.example"),
    )
    maildir.parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(maildir, create=True).add(build_mime(email))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = Starlette(routes=routes())
    app.state.runtime = types.SimpleNamespace(settings=settings)
    with TestClient(app) as client:
        yield client


def test_an_empty_mailbox_says_how_to_get_an_email(client: TestClient) -> None:
    # given no email received yet
    # when the mailbox is opened
    response = client.get("/mailbox")
    # then it explains how to trigger one, and refreshes itself
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "No emails yet" in response.text
    assert "<code>make demo-order</code>" in response.text
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', response.text)


def test_the_list_shows_subject_recipient_and_date_newest_first(
    client: TestClient, settings: Settings
) -> None:
    # given two emails, the second arrived later
    maildir = settings.mailbox_dir
    older = deliver(maildir, subject="Danke, Jonas!")
    newer = deliver(maildir, subject="Merci, Camille !", to="camille@example.fr")
    os.utime(next((maildir / "new").glob(f"{older}*")), (1, 1))
    # when the mailbox is opened
    page = client.get("/mailbox").text
    # then both are listed, newest first, linking to their pages
    assert page.index("Merci, Camille !") < page.index("Danke, Jonas!")
    assert "camille@example.fr" in page
    assert f"href='/mailbox/{newer}'" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page)
    assert "2 emails" in page


def test_the_list_escapes_what_it_shows(client: TestClient, settings: Settings) -> None:
    # given an email whose subject is markup
    deliver(settings.mailbox_dir, subject=HOSTILE)
    # when listed / then it is shown as text
    page = client.get("/mailbox").text
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_a_message_page_shows_headers_the_sandboxed_html_and_the_text(
    client: TestClient, settings: Settings
) -> None:
    # given an email whose HTML holds a script
    html = f'<h1 class="hi">Danke</h1>{HOSTILE}<p>"quoted" &amp; more</p>'
    key = deliver(settings.mailbox_dir, subject="Danke für Ihre Bestellung", html=html)
    # when its page is opened
    response = client.get(f"/mailbox/{key}")
    page = response.text
    # then the headers are listed
    assert response.status_code == 200
    assert "<dd>Danke für Ihre Bestellung</dd>" in page
    assert "<dd>Maison Example &lt;bonjour@maison.example&gt;</dd>" in page
    assert "<dd>jonas@example.de</dd>" in page
    # and the HTML is only inside a sandboxed iframe's srcdoc, fully escaped
    iframe = re.search(r'<iframe sandbox="" [^>]*srcdoc="([^"]*)"', page)
    assert iframe is not None
    assert "&lt;h1 class=&quot;hi&quot;&gt;Danke&lt;/h1&gt;" in iframe.group(1)
    assert "&amp;amp; more" in iframe.group(1)
    assert HOSTILE not in page
    # and the text part is shown as text
    assert "<pre>Hallo,\nDanke für Ihre Bestellung\n</pre>" in page
    assert f"href='/mailbox/{key}/raw'" in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"


def test_the_raw_source_is_plain_text(client: TestClient, settings: Settings) -> None:
    # given an email
    key = deliver(settings.mailbox_dir, subject="Größe M")
    # when its source is requested
    response = client.get(f"/mailbox/{key}/raw")
    # then it is the message as stored, as text
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Subject: =?utf-8?" in response.text
    assert "Content-Type: multipart/alternative;" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/mailbox/1795440000.M1P1Q1.nowhere",
        "/mailbox/1795440000.M1P1Q1.nowhere/raw",
        "/mailbox/..",
        "/mailbox/%2E%2E%2Fx",
        "/mailbox/..%2Fdata",
        "/mailbox/..%2F..%2Fetc%2Fpasswd/raw",
        "/mailbox/.hidden",
    ],
)
def test_unknown_or_path_like_keys_are_404(
    client: TestClient, settings: Settings, path: str
) -> None:
    # given a mailbox with one email and a readable file next to it
    deliver(settings.mailbox_dir, subject="inside")
    (settings.mailbox_dir.parent / "x").write_text("Subject: outside\r\n\r\nsecret\r\n")
    # when a page is requested for a key that is not a message
    response = client.get(path)
    # then it does not exist
    assert response.status_code == 404
    assert "secret" not in response.text
