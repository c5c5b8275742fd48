"""The admin page in a real headless Chromium (Playwright), against relance's real app.

relance runs under uvicorn on 127.0.0.1 (``create_app`` on a runtime over the test's database,
SQLite and PostgreSQL). For the Saleor Dashboard case a fake Dashboard runs on another origin
(127.0.0.2) and does what ``saleor-dashboard``'s ``AppFrame`` does: it frames
``/app?id=…&saleorApiUrl=…&theme=…``, posts a ``handshake`` when the frame has loaded and again in
answer to the page's ``notifyReady`` (with a ``response`` for its action id). A third origin
(127.0.0.3) plays another site's frame on the same Dashboard page.

Chromium is Debian's (``/usr/bin/chromium``, ``make browser``); Playwright never downloads one.
Without it these tests skip, except in CI (``CI`` set) where they fail. Every wait is one of
Playwright's (``expect``, ``wait_for_function``, ``expect_console_message``), never a sleep.
Screenshots of each state go to ``/tmp/relance-admin-page/``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import urlencode
from uuid import UUID

import pytest
import uvicorn
from dramatiq.brokers.stub import StubBroker
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Route as HeldRoute
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse
from starlette.routing import Route

from relance.app import create_app
from relance.automation.definitions import SendEmailStep
from relance.automation.library import POST_PURCHASE, CampaignTemplate
from relance.bootstrap import Process
from relance.demo.store import setup_demo
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import Campaign, CampaignStatus
from relance.store.repositories.api_tokens import create_token_for_store
from relance.store.repositories.campaigns import create_from_template, publish
from relance.tasks.actors import declare_actors
from relance.templates.library import DesignLibrary
from relance.templates.renderer import EmailRenderer
from tests.fixtures.http import serve
from tests.fixtures.saleor import FakeSaleor, install_store
from tests.fixtures.services import CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path("/tmp/relance-admin-page")
#: Playwright's waits, in ms: generous for a loaded CI machine; they end as soon as they succeed.
WAIT_MS = 20_000

TEMPLATE = POST_PURCHASE.name  # "Post-purchase thank you"


def chromium_unavailable(reason: str) -> None:
    """Skip (laptop) or fail (CI) like tests/fixtures/services.py::unavailable."""
    message = f"Chromium is not usable: {reason}"
    if CI:
        pytest.fail(f"{message}; CI must provide it (make browser)", pytrace=False)
    pytest.skip(f"{message}; install Debian's chromium (make browser) to run the page tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        chromium_unavailable(f"{CHROMIUM} is missing")
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            chromium_unavailable(f"{CHROMIUM} did not start ({error.message.splitlines()[0]})")
        expect.set_options(timeout=WAIT_MS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Page, name: str, request: pytest.FixtureRequest) -> None:
    """Screenshot into SHOTS as ``<name>-<database>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    backend = request.node.callspec.params.get("database_url", "db")
    page.screenshot(
        path=str(SHOTS / f"{name}-{backend}.png"), full_page=True, animations="disabled"
    )


# -- relance ------------------------------------------------------------------------------------


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime], database_url: str) -> Runtime:
    return make_runtime(database_url, renderer=EmailRenderer(DesignLibrary()))


@pytest.fixture
def relance_url(runtime: Runtime) -> Iterator[str]:
    """relance's real app (every route, as ``relance serve`` assembles them) on 127.0.0.1."""
    broker = StubBroker()
    process = Process(runtime=runtime, broker=broker, actors=declare_actors(broker))
    with serve(create_app(runtime.settings, process=process)) as client:
        yield str(client.base_url).rstrip("/")


def seed_campaign(
    runtime: Runtime,
    store_id: UUID,
    *,
    template: CampaignTemplate = POST_PURCHASE,
    name: str | None = None,
    published: bool = True,
) -> None:
    with transaction(runtime.sessions) as session:
        campaign = create_from_template(
            session, store_id=store_id, template=template, name=name, now=runtime.clock()
        )
        if published:
            known = runtime.renderer.library.known_designs()
            assert (
                publish(session, campaign=campaign, now=runtime.clock(), known_designs=known) == []
            )


def campaign_statuses(runtime: Runtime, store_id: UUID) -> dict[str, CampaignStatus]:
    with transaction(runtime.sessions) as session:
        rows = session.scalars(select(Campaign).where(Campaign.store_id == store_id))
        return {row.name: row.status for row in rows}


def record_graphql(page: Page) -> list[Request]:
    """Every request any frame of ``page`` makes to relance's /graphql, in order."""
    seen: list[Request] = []
    page.on("request", lambda r: seen.append(r) if r.url.endswith("/graphql") else None)
    return seen


# -- a fake Saleor Dashboard on other origins -----------------------------------------------------


@contextmanager
def serve_on(app: Starlette, host: str) -> Iterator[str]:
    """Run ``app`` with uvicorn on ``host`` (a free port); yield its origin."""
    sock = socket.socket()
    try:
        sock.bind((host, 0))
    except OSError:  # a system without the whole 127/8 on loopback: another port is another origin
        sock.bind(("127.0.0.1", 0))
    bound_host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake Dashboard did not start")
        time.sleep(0.01)
    try:
        yield f"http://{bound_host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# The Dashboard's part (saleor-dashboard src/extensions/views/ViewManifestExtension/components/
# AppFrame/{AppFrame.tsx,useAppActions.ts,appActionsHandler.ts}): handshake on the frame's load
# event and in answer to notifyReady, each posted to the app's origin; `response` to actions.
DASHBOARD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Saleor Dashboard (fake)</title></head>
<body style="margin:0;font:14px system-ui,sans-serif;background:#fff;color:#171717">
<div style="display:flex;min-height:100vh">
  <nav style="width:200px;flex:none;background:#f7f7f7;border-right:1px solid #e4e4e4;padding:20px">
    <b>Saleor</b><p style="color:#6b6b6b">Orders<br>Products<br>Customers<br><b>Apps</b></p>
    <div id="slot"></div>
  </nav>
  <main id="main" style="flex:1;display:flex"></main>
</div>
<script>
const cfg = JSON.parse(document.body.dataset.cfg);
const appOrigin = new URL(cfg.src).origin;
window.received = [];
const frame = document.createElement("iframe");
frame.name = "relance";
frame.src = cfg.src;
frame.sandbox = "allow-same-origin allow-forms allow-scripts allow-downloads allow-popups";
frame.style.cssText = "flex:1;border:0;min-height:860px";
function send(event) { frame.contentWindow.postMessage(event, appOrigin); }
function handshake() {
  send({type: "handshake", payload: {token: cfg.token, version: 1,
        saleorVersion: "3.24.0", dashboardVersion: "3.24.0"}});
}
window.send = send;
window.handshake = handshake;
window.addEventListener("message", (event) => {
  if (event.origin !== appOrigin) return;
  window.received.push(event.data);
  if (cfg.auto && event.data && event.data.type === "notifyReady") {
    handshake();
    send({type: "response", payload: {actionId: event.data.payload.actionId, ok: true}});
  }
});
if (cfg.auto) frame.addEventListener("load", handshake);
document.getElementById("main").append(frame);
if (cfg.other) {
  const other = document.createElement("iframe");
  other.name = "other";
  other.src = cfg.other;
  other.style.cssText = "width:160px;height:90px;border:1px solid #e4e4e4;margin-top:16px";
  document.getElementById("slot").append(other);
}
</script>
</body></html>
"""

OTHER_PAGE = """<!doctype html><html><body style="margin:0;font:12px system-ui;padding:8px">
<p id="ready">Another site's widget</p></body></html>"""


@dataclass
class FakeDashboard:
    """The Dashboard's origin and another site's origin, both served by one tiny app."""

    origin: str = ""
    other_origin: str = ""
    pages: dict[str, str] = field(default_factory=dict)

    def page_url(self, *, app_src: str, token: str, auto: bool, with_other_site: bool) -> str:
        config = {
            "src": app_src,
            "token": token,
            "auto": auto,
            "other": f"{self.other_origin}/other" if with_other_site else None,
        }
        key = str(len(self.pages))
        self.pages[key] = DASHBOARD_PAGE.replace(
            "<body ", f'<body data-cfg="{escape(json.dumps(config), quote=True)}" ', 1
        )
        return f"{self.origin}/dashboard/{key}"


@pytest.fixture
def dashboard() -> Iterator[FakeDashboard]:
    fake = FakeDashboard()

    def dashboard_page(request: HttpRequest) -> HTMLResponse:
        return HTMLResponse(fake.pages[request.path_params["key"]])

    def other_page(request: HttpRequest) -> HTMLResponse:
        return HTMLResponse(OTHER_PAGE)

    app = Starlette(routes=[Route("/dashboard/{key}", dashboard_page), Route("/other", other_page)])
    with serve_on(app, "127.0.0.2") as origin, serve_on(app, "127.0.0.3") as other_origin:
        fake.origin, fake.other_origin = origin, other_origin
        yield fake


def app_src(relance_url: str, saleor: FakeSaleor, theme: str = "light") -> str:
    """The iframe URL the Dashboard builds (``resolveAppIframeUrl``)."""
    query = {"id": saleor.app_id, "saleorApiUrl": saleor.api_url, "theme": theme, "locale": "en"}
    return f"{relance_url}/app?{urlencode(query)}"


# -- outside Saleor: API token -------------------------------------------------------------------


def test_signed_in_with_an_api_token_a_merchant_creates_and_publishes_a_campaign(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given the demo store, whose post-purchase campaign is published
    demo = setup_demo(runtime)
    calls = record_graphql(page)
    # when the merchant opens /app outside Saleor
    page.goto(f"{relance_url}/app")
    # then the page asks for a token
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "1-sign-in", request)

    # when they sign in with the store's admin API token
    page.get_by_label("Admin API token").fill(demo.api_token)
    page.get_by_role("button", name="Sign in").click()
    # then they see their store and its published campaign with its counts
    expect(page.locator("#store-line")).to_contain_text("Maison Exemple")
    rows = page.locator("#campaign-rows tr")
    expect(rows).to_have_count(1)
    first = rows.filter(has_text=TEMPLATE)
    expect(first.locator("td").nth(1)).to_have_text("Active")
    expect(first.locator("td").nth(2)).to_contain_text("v1")
    expect(first.locator("td.num")).to_have_text(["0", "0", "0"])
    expect(page.get_by_role("heading", name=TEMPLATE)).to_be_visible()
    shot(page, "2-campaigns", request)

    # when they create a second campaign from the template
    page.get_by_label(f"Name of the new {TEMPLATE} campaign").fill("Thank you, second edition")
    page.get_by_role("listitem").filter(has_text="Post-purchase thank you").get_by_role(
        "button", name="Create campaign"
    ).click()
    # then it is listed as a draft, with a button to publish it
    second = rows.filter(has_text="Thank you, second edition")
    expect(second.locator("td").nth(1)).to_have_text("Draft")
    expect(page.locator("#flash")).to_contain_text("was created as a draft")
    expect(rows).to_have_count(2)
    shot(page, "3-draft-created", request)

    # when they publish it
    second.get_by_role("button", name="Publish version 1 of Thank you, second edition").click()
    # then it is Active with version 1, and nothing is left to publish
    expect(second.locator("td").nth(1)).to_have_text("Active")
    expect(second.locator("td").nth(2)).to_contain_text("v1")
    expect(second.get_by_role("button")).to_have_count(0)
    expect(page.locator("#flash")).to_contain_text("is published (v1)")
    shot(page, "4-published", request)
    assert campaign_statuses(runtime, demo.store_id) == {
        TEMPLATE: CampaignStatus.ACTIVE,
        "Thank you, second edition": CampaignStatus.ACTIVE,
    }

    # the tab keeps the token (sessionStorage) across a reload, until sign-out
    page.reload()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    # every call carried the API token as a bearer token, and nothing of the Dashboard's
    for call in calls:
        headers = call.all_headers()
        assert headers["authorization"] == f"Bearer {demo.api_token}"
        assert "authorization-bearer" not in headers


def test_a_refused_token_and_a_failed_publish_are_explained(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given a store with a campaign whose draft uses a design that does not exist
    demo = setup_demo(runtime)
    broken = CampaignTemplate(
        key="post_purchase",
        name="Winter sale",
        description="",
        definition=POST_PURCHASE.definition.model_copy(
            update={
                "entry_step": "thank_you",
                "steps": (SendEmailStep(id="thank_you", design="winter_sale"),),
            }
        ),
    )
    seed_campaign(runtime, demo.store_id, template=broken, published=False)
    page.goto(f"{relance_url}/app")

    # when a wrong token is tried
    page.get_by_label("Admin API token").fill("rl_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    # then the form says it was refused, and keeps nothing
    expect(page.locator("#token-error")).to_have_text(re.compile("This token was refused"))
    assert page.evaluate("sessionStorage.length") == 0
    shot(page, "5-token-refused", request)

    # when the right one is used and the broken draft is published
    page.get_by_label("Admin API token").fill(demo.api_token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Publish version 1 of Winter sale").click()
    # then the reasons are listed with the field at fault, and nothing changed
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("“Winter sale” could not be published.")
    expect(problem.locator("li")).to_have_count(1)
    expect(problem.locator("li code")).to_have_text("steps.0.design")
    expect(problem.locator("li")).to_contain_text("winter_sale")
    expect(
        page.locator("#campaign-rows tr", has_text="Winter sale").locator("td").nth(1)
    ).to_have_text("Draft")
    shot(page, "6-publish-errors", request)


# -- inside the Saleor Dashboard ------------------------------------------------------------------


def test_inside_the_dashboard_the_page_works_with_the_handshake_token(
    page: Page,
    runtime: Runtime,
    relance_url: str,
    fake_saleor: FakeSaleor,
    dashboard: FakeDashboard,
    request: pytest.FixtureRequest,
) -> None:
    # given relance installed in a Saleor store that has a published campaign
    store = install_store(runtime, fake_saleor)
    seed_campaign(runtime, store.id)
    now = runtime.clock()
    token = fake_saleor.signer.dashboard_token(
        iss=fake_saleor.api_url, app=fake_saleor.app_id, now=now
    )
    calls = record_graphql(page)
    # when the Dashboard frames /app and hands its token over
    page.goto(
        dashboard.page_url(
            app_src=app_src(relance_url, fake_saleor), token=token, auto=True, with_other_site=False
        )
    )
    app = page.frame_locator("iframe[name=relance]")
    # then the page lists the store's campaigns
    row = app.locator("#campaign-rows tr", has_text=TEMPLATE)
    expect(row.locator("td").nth(1)).to_have_text("Active")
    expect(app.locator("#store-line")).to_contain_text(fake_saleor.api_url)
    expect(app.locator("html")).to_have_attribute("data-theme", "light")
    expect(app.get_by_role("button", name="Sign out")).to_be_hidden()
    # having told the Dashboard it is ready, as app-sdk's AppBridge does
    page.wait_for_function("window.received.some(m => m.type === 'notifyReady')")
    ready = next(m for m in page.evaluate("window.received") if m["type"] == "notifyReady")
    assert isinstance(ready["payload"]["actionId"], str)
    assert ready["payload"]["actionId"]
    shot(page, "7-dashboard", request)

    # when a user with MANAGE_USERS creates a campaign from there
    app.get_by_role("listitem").filter(has_text="Post-purchase thank you").get_by_role(
        "button", name="Create campaign"
    ).click()
    # then it is created for this store
    expect(app.locator("#campaign-rows tr")).to_have_count(2)
    expect(app.locator("#campaign-rows tr").filter(has_text="Draft")).to_have_count(1)

    # when the Dashboard switches to its dark theme
    page.evaluate("send({type: 'theme', payload: {theme: 'dark'}})")
    # then the page follows
    expect(app.locator("html")).to_have_attribute("data-theme", "dark")
    shot(page, "8-dashboard-dark", request)

    # when the Dashboard refreshes the token (here for a user without MANAGE_USERS)
    reader = fake_saleor.signer.dashboard_token(
        iss=fake_saleor.api_url,
        app=fake_saleor.app_id,
        user_id="VXNlcjo5",
        user_permissions=("MANAGE_ORDERS",),
        now=now,
    )
    page.evaluate("t => send({type: 'tokenRefresh', payload: {token: t}})", reader)
    # then the page uses it from then on: read-only, and the next call carries it
    expect(app.get_by_text("You can see campaigns but not change them")).to_be_visible()
    expect(
        app.get_by_role("listitem")
        .filter(has_text="Post-purchase thank you")
        .get_by_role("button", name="Create campaign")
    ).to_be_disabled()
    with page.expect_request(lambda r: r.url.endswith("/graphql")) as refreshed:
        app.get_by_role("button", name="Refresh").click()
    assert refreshed.value.all_headers()["authorization-bearer"] == reader
    expect(app.locator("#campaign-rows tr")).to_have_count(2)
    shot(page, "9-dashboard-read-only", request)

    # every call carried a Dashboard token and the store's API URL, as app-sdk's fetch does
    tokens = []
    for call in calls:
        headers = call.all_headers()
        assert headers["saleor-api-url"] == fake_saleor.api_url
        assert "authorization" not in headers
        tokens.append(headers["authorization-bearer"])
    assert set(tokens) == {token, reader}
    assert tokens[-1] == reader


def test_a_handshake_from_another_origin_is_ignored(
    page: Page,
    runtime: Runtime,
    relance_url: str,
    fake_saleor: FakeSaleor,
    dashboard: FakeDashboard,
    request: pytest.FixtureRequest,
) -> None:
    # given a Dashboard page that also shows another site's frame, and has not handed over yet
    store = install_store(runtime, fake_saleor)
    seed_campaign(runtime, store.id)
    now = runtime.clock()
    token = fake_saleor.signer.dashboard_token(
        iss=fake_saleor.api_url, app=fake_saleor.app_id, now=now
    )
    # (a token that would work, had it come from the Dashboard)
    stolen = fake_saleor.signer.dashboard_token(
        iss=fake_saleor.api_url, app=fake_saleor.app_id, user_id="VXNlcjo2NjY=", now=now
    )
    calls = record_graphql(page)
    page.goto(
        dashboard.page_url(
            app_src=app_src(relance_url, fake_saleor), token=token, auto=False, with_other_site=True
        )
    )
    app = page.frame_locator("iframe[name=relance]")
    expect(app.get_by_role("heading", name="Connecting to the Saleor Dashboard…")).to_be_visible()
    expect(page.frame_locator("iframe[name=other]").locator("#ready")).to_be_visible()
    other = page.frame(name="other")
    assert other is not None
    assert other.url.startswith(dashboard.other_origin)

    # when the other site posts a handshake to the relance frame
    expected_log = f"relance: ignored a message from {dashboard.other_origin}"
    with page.expect_console_message(lambda message: expected_log in message.text):
        other.evaluate(
            "t => parent.frames['relance'].postMessage("
            "{type: 'handshake', payload: {token: t, version: 1}}, '*')",
            stolen,
        )
    # then the page dropped it: still waiting, and it called nothing
    expect(app.get_by_role("heading", name="Connecting to the Saleor Dashboard…")).to_be_visible()
    assert calls == []
    shot(page, "10-foreign-handshake-ignored", request)

    # when the Dashboard itself hands its token over
    page.evaluate("handshake()")
    # then the page loads, with the Dashboard's token only
    expect(app.locator("#campaign-rows tr", has_text=TEMPLATE)).to_have_count(1)
    assert calls
    assert {call.all_headers()["authorization-bearer"] for call in calls} == {token}


def test_opened_directly_with_saleor_parameters_the_page_points_to_the_dashboard(
    page: Page, relance_url: str, fake_saleor: FakeSaleor
) -> None:
    # when /app?saleorApiUrl=… is opened in a tab of its own (no Dashboard around it)
    page.goto(app_src(relance_url, fake_saleor, theme="dark"))
    # then it explains where to open it instead of waiting silently
    expect(page.get_by_role("heading", name="Connecting to the Saleor Dashboard…")).to_be_visible()
    expect(page.locator("#waiting-hint")).to_contain_text(
        "meant to be opened by the Saleor Dashboard"
    )
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_a_store_without_campaigns_sees_the_loading_then_the_empty_state(
    page: Page,
    runtime: Runtime,
    relance_url: str,
    fake_saleor: FakeSaleor,
    request: pytest.FixtureRequest,
) -> None:
    # given a newly installed store, and relance's answer held back
    store = install_store(runtime, fake_saleor)
    token = create_token_for_store(runtime, store.id, "tests")
    held: list[HeldRoute] = []
    page.route("**/graphql", lambda route: held.append(route))
    page.goto(f"{relance_url}/app")
    page.get_by_label("Admin API token").fill(token)
    # when the merchant signs in
    with page.expect_request("**/graphql"):
        page.get_by_role("button", name="Sign in").click()
    # then the page shows it is loading
    expect(page.get_by_text("Loading campaigns…")).to_be_visible()
    expect(page.locator("#campaigns-card")).to_have_attribute("aria-busy", "true")
    shot(page, "11-loading", request)
    # and once relance answers, says there is nothing yet and offers the templates
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/graphql")
    expect(page.get_by_text("No campaigns yet")).to_be_visible()
    expect(page.locator("#campaigns")).to_be_hidden()
    expect(
        page.get_by_role("listitem")
        .filter(has_text="Post-purchase thank you")
        .get_by_role("button", name="Create campaign")
    ).to_be_enabled()
    expect(page.locator("#campaigns-card")).not_to_have_attribute("aria-busy", "true")
    shot(page, "12-empty", request)
