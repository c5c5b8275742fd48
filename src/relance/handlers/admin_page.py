"""``GET /app``: the admin page (the manifest's ``appUrl``) and its two assets.

One HTML document, a few plain ES modules and one stylesheet, shipped in ``static/app/`` and
served byte for byte: no build step, no templating, no data in the page. The page gets a
credential (the Saleor Dashboard's token through the App Bridge handshake, or an admin API token
typed in) and fetches everything else from ``/graphql``. What it does and why: docs/admin-page.md.

- ``GET /app``: the document, with :data:`PAGE_HEADERS`.
- ``GET /app/static/<name>`` for each of :data:`ASSET_TYPES` (``app.js``, the modules it imports,
  ``app.css``). Anything else under ``/app/static/`` is 404.

Every response carries a strong ``ETag`` and ``Cache-Control: no-cache``: browsers keep a copy and
revalidate it (a 304 when unchanged), so a new release is picked up on the next load. The page
refers to its assets and to ``graphql`` by *relative* URLs, so relance also works behind a proxy
that mounts it under a path prefix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from relance.plugin.saleor.manifest import APP_PATH

#: The admin page's Content-Security-Policy. Same-origin scripts, styles and requests only; no
#: inline code; Trusted Types with no policy at all, so the browser itself refuses any string
#: written to an HTML sink (``innerHTML`` and friends): the page builds its DOM with
#: ``textContent``. ``form-action 'none'`` keeps a sign-in form that JavaScript failed to take
#: over from putting the token in a URL. ``frame-ancestors *``: the Saleor Dashboard embeds the
#: page from its own origin, which relance is never told (it is not the API URL's origin in
#: general), see docs/admin-page.md.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors *",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)

#: Headers of every response of this module.
COMMON_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}

#: Headers of the document. ``Referrer-Policy`` governs only what the page itself sends (its
#: ``/graphql`` calls); the ``document.referrer`` the App Bridge checks is set by the Dashboard's
#: policy when it loads the iframe. The value is the browser default, stated so that a proxy
#: default of ``no-referrer`` is not mistaken for relance's wish.
PAGE_HEADERS = {
    **COMMON_HEADERS,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

_SCRIPT = "text/javascript; charset=utf-8"

#: Asset file name → media type. Only these are served: ``app.js`` (the entry module) and the
#: modules it imports (relative specifiers, ``./api.js``), and the stylesheet.
ASSET_TYPES = {
    "app.js": _SCRIPT,
    "api.js": _SCRIPT,
    "campaign.js": _SCRIPT,
    "contacts.js": _SCRIPT,
    "context.js": _SCRIPT,
    "dom.js": _SCRIPT,
    "enrollments.js": _SCRIPT,
    "json-text.js": _SCRIPT,
    "outline.js": _SCRIPT,
    "ui.js": _SCRIPT,
    "app.css": "text/css; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class _File:
    body: bytes
    media_type: str
    etag: str


@cache
def _load(name: str, media_type: str) -> _File:
    """The packaged file ``static/app/<name>``, read once per process."""
    body = files("relance.handlers").joinpath("static", "app", name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return _File(body=body, media_type=media_type, etag=etag)


def _send(request: Request, file: _File, headers: dict[str, str]) -> Response:
    answer_headers = {**headers, "ETag": file.etag}
    tags = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
    if file.etag in tags or f"W/{file.etag}" in tags:
        return Response(status_code=304, headers=answer_headers)
    return Response(file.body, media_type=file.media_type, headers=answer_headers)


def admin_page(request: Request) -> Response:
    """The admin page's HTML document."""
    return _send(request, _load("index.html", "text/html; charset=utf-8"), PAGE_HEADERS)


def admin_asset(request: Request) -> Response:
    """One of :data:`ASSET_TYPES`, or 404."""
    name = request.path_params["name"]
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        return PlainTextResponse("Not Found", status_code=404, headers=COMMON_HEADERS)
    return _send(request, _load(name, media_type), COMMON_HEADERS)


def routes() -> list[BaseRoute]:
    """``/app`` and ``/app/static/{name}`` (GET, and HEAD)."""
    return [
        Route(APP_PATH, admin_page, methods=["GET"], name="admin_page"),
        Route(f"{APP_PATH}/static/{{name}}", admin_asset, methods=["GET"], name="admin_asset"),
    ]
