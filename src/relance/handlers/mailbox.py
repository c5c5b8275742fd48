"""``/mailbox``: the emails the embedded SMTP sink received, readable in a browser.

``GET /mailbox`` lists them (newest first, refreshing itself), ``GET /mailbox/{key}`` shows one
(headers, the HTML part in a sandboxed iframe, the text part) and ``GET /mailbox/{key}/raw`` its
source. Unknown or malformed keys are 404. Every value put into a page is HTML-escaped; the email
itself is shown only through ``srcdoc`` in an iframe with an empty ``sandbox`` (no scripts, no
forms, no same-origin access). Pages are self-contained: inline CSS, no external assets.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from relance.channels.mailbox import StoredMail, get_message, list_messages

#: Seconds between reloads of the list.
REFRESH_SECONDS = 4

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
        "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
}

_STYLE = """
:root { color-scheme: light; --ink: #1f1d1a; --muted: #6f6a63; --line: #e6e1d9;
  --paper: #faf8f5; --accent: #8a6a3b; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; }
header { border-bottom: 1px solid var(--line); background: #fff; }
header div, main { max-width: 1040px; margin: 0 auto; padding: 16px 24px; }
header a { color: var(--ink); text-decoration: none; font-weight: 600; letter-spacing: .02em; }
header small { color: var(--muted); margin-left: 10px; }
h1 { font-size: 22px; margin: 12px 0 18px; font-weight: 600; }
a { color: var(--accent); }
table.list { width: 100%; border-collapse: collapse; background: #fff;
  border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.list th, .list td { text-align: left; padding: 12px 16px; border-bottom: 1px solid var(--line); }
.list th { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  font-weight: 600; background: #fcfbf9; }
.list tr:last-child td { border-bottom: 0; }
.list tbody tr:hover { background: #fdf9f2; }
.list td a { color: var(--ink); font-weight: 600; text-decoration: none; display: block; }
.list td.meta { color: var(--muted); white-space: nowrap; }
.empty { background: #fff; border: 1px dashed var(--line); border-radius: 10px; padding: 40px;
  text-align: center; color: var(--muted); }
.empty strong { display: block; color: var(--ink); font-size: 17px; margin-bottom: 6px; }
code { background: #f1ece4; border-radius: 4px; padding: 1px 6px; color: var(--ink);
  font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0 0 20px;
  background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
h2 { font-size: 14px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: 28px 0 10px; font-weight: 600; }
iframe { width: 100%; height: 80vh; min-height: 560px; border: 1px solid var(--line);
  border-radius: 10px; background: #fff; resize: vertical; }
pre { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px;
  white-space: pre-wrap; overflow-wrap: anywhere; font: 13px/1.55 ui-monospace, Menlo, monospace; }
.actions { margin: -6px 0 18px; } .actions a { margin-right: 16px; }
"""


def _mailbox_dir(request: Request) -> Path:
    return Path(request.app.state.runtime.settings.mailbox_dir)


def _page(title: str, body: str, *, status_code: int = 200, refresh: bool = False) -> HTMLResponse:
    meta_refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return HTMLResponse(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta_refresh}<title>{escape(title)} · relance mailbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        '<header><div><a href="/mailbox">relance mailbox</a>'
        "<small>emails caught by the local SMTP sink</small></div></header>"
        f"<main>{body}</main></body></html>",
        status_code=status_code,
        headers=_HEADERS,
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _link(mail: StoredMail, suffix: str = "") -> str:
    return escape(f"/mailbox/{quote(mail.key, safe='')}{suffix}")


def mailbox_index(request: Request) -> HTMLResponse:
    messages = list_messages(_mailbox_dir(request))
    if not messages:
        body = (
            "<h1>Mailbox</h1><div class='empty'><strong>No emails yet</strong>"
            "Place a sample order with <code>make demo-order</code>: the thank-you email "
            f"appears here within seconds. This page refreshes every {REFRESH_SECONDS} s.</div>"
        )
        return _page("Mailbox", body, refresh=True)
    rows = "".join(
        "<tr>"
        f"<td><a href='{_link(mail)}'>{escape(mail.subject) or '(no subject)'}</a></td>"
        f"<td class='meta'>{escape(mail.to)}</td>"
        f"<td class='meta'>{escape(_when(mail.date))}</td>"
        "</tr>"
        for mail in messages
    )
    count = f"{len(messages)} email{'s' if len(messages) != 1 else ''}"
    body = (
        f"<h1>Mailbox <small style='color:var(--muted);font-weight:400'>{count}</small></h1>"
        "<table class='list'><thead><tr><th>Subject</th><th>To</th><th>Date</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return _page("Mailbox", body, refresh=True)


def _not_found() -> HTMLResponse:
    body = (
        "<h1>Not found</h1><div class='empty'><strong>No such email</strong>"
        "<a href='/mailbox'>Back to the mailbox</a></div>"
    )
    return _page("Not found", body, status_code=404)


def mailbox_message(request: Request) -> HTMLResponse:
    mail = get_message(_mailbox_dir(request), request.path_params["key"])
    if mail is None:
        return _not_found()
    fields = (("Subject", mail.subject), ("From", mail.sender), ("To", mail.to))
    details = "".join(f"<dt>{name}</dt><dd>{escape(value)}</dd>" for name, value in fields)
    details += f"<dt>Date</dt><dd>{escape(_when(mail.date))}</dd>"
    html_part = (
        f'<iframe sandbox="" referrerpolicy="no-referrer" title="HTML part" '
        f'srcdoc="{escape(mail.html, quote=True)}"></iframe>'
        if mail.html
        else "<div class='empty'>This email has no HTML part.</div>"
    )
    text_part = (
        f"<pre>{escape(mail.text)}</pre>"
        if mail.text
        else "<div class='empty'>This email has no text part.</div>"
    )
    body = (
        f"<h1>{escape(mail.subject) or '(no subject)'}</h1>"
        f"<p class='actions'><a href='/mailbox'>← All emails</a>"
        f"<a href='{_link(mail, '/raw')}'>View source</a></p>"
        f"<dl>{details}</dl><h2>HTML</h2>{html_part}<h2>Text</h2>{text_part}"
    )
    return _page(mail.subject or "Email", body)


def mailbox_raw(request: Request) -> Response:
    mail = get_message(_mailbox_dir(request), request.path_params["key"])
    if mail is None:
        return _not_found()
    return Response(
        mail.raw.decode("utf-8", "replace"),
        media_type="text/plain; charset=utf-8",
        headers={key: value for key, value in _HEADERS.items() if key != "Content-Security-Policy"}
        | {"Content-Security-Policy": "default-src 'none'; sandbox"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/mailbox", mailbox_index, methods=["GET"], name="mailbox"),
        Route("/mailbox/{key}", mailbox_message, methods=["GET"], name="mailbox_message"),
        Route("/mailbox/{key}/raw", mailbox_raw, methods=["GET"], name="mailbox_raw"),
    ]
