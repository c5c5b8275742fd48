"""``/app`` over real HTTP: the document, its assets, their headers; and the files' own rules.

The page's behaviour in a browser is in ``test_admin_page_browser.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from relance.app import routes as app_routes
from relance.handlers import admin_page
from relance.plugin.saleor.manifest import APP_PATH
from relance.settings import Settings
from tests.fixtures.http import serve

STATIC = Path(admin_page.__file__).parent / "static" / "app"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with serve(Starlette(routes=admin_page.routes())) as client:
        yield client


def csp_directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    pairs = (part.strip().partition(" ") for part in policy.split(";") if part.strip())
    return {name: value for name, _, value in pairs}


def test_the_page_is_served_at_the_manifest_app_url(client: httpx.Client) -> None:
    # when the Dashboard loads the app's appUrl
    response = client.get(APP_PATH, params={"id": "QXBwOjQy", "saleorApiUrl": "x", "theme": "dark"})
    # then it gets the packaged document, whatever the query string
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == (STATIC / "index.html").read_bytes()
    assert '<script type="module" src="app/static/app.js"></script>' in response.text


def test_the_page_has_a_strict_policy_that_lets_the_dashboard_frame_it(
    client: httpx.Client,
) -> None:
    response = client.get(APP_PATH)
    directives = csp_directives(response)
    # only its own scripts, styles and API; nothing inline, nothing evaluated
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "unsafe" not in response.headers["content-security-policy"]
    # no string may reach an HTML sink (innerHTML…): the browser enforces it
    assert directives["require-trusted-types-for"] == "'script'"
    assert directives["trusted-types"] == "'none'"
    # a token form that escaped JavaScript cannot submit (the token would land in a URL)
    assert directives["form-action"] == "'none'"
    assert directives["base-uri"] == "'none'"
    # the Dashboard, on an origin relance is never told, embeds it
    assert directives["frame-ancestors"] == "*"
    assert "x-frame-options" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    # not no-referrer: the default, which keeps the origin for cross-origin requests
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


SCRIPTS = sorted(path.name for path in STATIC.glob("*.js"))


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        *((name, "text/javascript; charset=utf-8") for name in SCRIPTS),
        ("app.css", "text/css; charset=utf-8"),
    ],
)
def test_assets_are_served_with_their_type_and_nosniff(
    client: httpx.Client, name: str, media_type: str
) -> None:
    response = client.get(f"{APP_PATH}/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (STATIC / name).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/app/static/index.html",
        "/app/static/missing.js",
        "/app/static/..%2F..%2Fadmin_page.py",
        "/app/static/%2E%2E/admin_page.py",
    ],
)
def test_nothing_else_is_served_from_the_static_folder(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "relance" not in response.text


@pytest.mark.parametrize(
    "path", [APP_PATH, f"{APP_PATH}/static/app.js", f"{APP_PATH}/static/ui.js"]
)
def test_an_unchanged_file_is_revalidated_with_a_304(client: httpx.Client, path: str) -> None:
    # given a browser that kept a copy
    first = client.get(path)
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    # when it revalidates
    again = client.get(path, headers={"If-None-Match": etag})
    other = client.get(path, headers={"If-None-Match": '"stale"'})
    # then an unchanged file costs no body, a changed one is sent again
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200


def test_head_requests_are_answered(client: httpx.Client) -> None:
    response = client.head(APP_PATH)
    assert response.status_code == 200
    assert response.headers["content-security-policy"]


def test_the_app_serves_the_page() -> None:
    paths = {route.path for route in app_routes(Settings()) if isinstance(route, Route)}
    assert {APP_PATH, f"{APP_PATH}/static/{{name}}"} <= paths


def test_the_document_has_no_inline_script_or_style() -> None:
    # the CSP forbids them: they would silently not run
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script\b[^>]*>", html) == [
        '<script type="module" src="app/static/app.js">'
    ]
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_every_file_of_the_page_is_served_and_nothing_more() -> None:
    # the folder holds the document and exactly the assets the handler serves
    assert {path.name for path in STATIC.iterdir()} == {"index.html", *admin_page.ASSET_TYPES}


def test_the_modules_import_only_served_modules() -> None:
    # relative imports resolve next to app.js (/app/static/…); a missing one would 404 the page
    imported = {"app.js"}
    for name in SCRIPTS:
        source = (STATIC / name).read_text()
        for target in re.findall(r'^import [^;]*? from "\./([a-z-]+\.js)";', source, re.M | re.S):
            imported.add(target)
        assert "import(" not in source, name  # no dynamic imports to keep track of
        assert not re.search(r'from "(?!\./)', source), name  # nothing from elsewhere
    assert imported == set(SCRIPTS)
    # and the document preloads each of them
    html = (STATIC / "index.html").read_text()
    preloaded = set(re.findall(r'<link rel="modulepreload" href="app/static/([a-z-]+\.js)">', html))
    assert preloaded == set(SCRIPTS) - {"app.js"}


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_scripts_never_write_html_strings(name: str) -> None:
    # data reaches the page through textContent / DOM APIs only (Trusted Types backs this up)
    script = (STATIC / name).read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in code, sink
    assert "new Function" not in code
