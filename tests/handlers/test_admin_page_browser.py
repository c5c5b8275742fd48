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
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import pytest
import uvicorn
from dramatiq.brokers.stub import StubBroker
from playwright.sync_api import Browser, Locator, Page, Request, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Route as HeldRoute
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse
from starlette.routing import Route

from relance.app import create_app
from relance.automation.contacts import ContactUpdate
from relance.automation.definitions import SendEmailStep
from relance.automation.events import DomainEvent, EventType, OrderSnapshot
from relance.automation.library import POST_PURCHASE, CampaignTemplate
from relance.bootstrap import Process
from relance.demo.store import setup_demo
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import Campaign, CampaignStatus, CampaignVersion, Enrollment
from relance.store.repositories.api_tokens import create_token_for_store
from relance.store.repositories.campaigns import create_from_template, publish
from relance.store.repositories.contacts import upsert_contact
from relance.tasks.actors import declare_actors
from relance.tasks.advancing import advance_enrollment
from relance.tasks.intake import accept_event
from relance.tasks.processing import process_event
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
    # UTC and en-US: the dates the page formats are the same on every machine
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, timezone_id="UTC", locale="en-US"
    )
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


def place_order(runtime: Runtime, store_id: UUID, email: str, *, language: str = "fr") -> None:
    """An order.placed for ``email`` run through the engine, as a worker would: each published
    campaign it triggers enrolls the contact and takes its first steps (nothing is sent)."""
    now = runtime.clock()
    number = uuid4().hex[:8]
    event = DomainEvent(
        type=EventType.ORDER_PLACED,
        idempotency_key=f"order.placed:{email}:{number}",
        occurred_at=now,
        contact=ContactUpdate(email=email, language=language),
        order=OrderSnapshot(
            order_id=number,
            number=number,
            created_at=now,
            currency="EUR",
            subtotal=Decimal("87.00"),
            total=Decimal("87.00"),
        ),
    )
    accepted = accept_event(runtime, store_id, event)  # the test runtime only records dispatches
    for enrollment_id in process_event(runtime, accepted.event_id):
        advance_enrollment(runtime, enrollment_id)


def add_contact(runtime: Runtime, store_id: UUID, email: str, *, language: str) -> None:
    with transaction(runtime.sessions) as session:
        upsert_contact(
            session, store_id, ContactUpdate(email=email, language=language), runtime.clock()
        )


def campaign_versions(runtime: Runtime, store_id: UUID, name: str) -> dict[int, str]:
    """Version number → status of the campaign ``name``."""
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(CampaignVersion.number, CampaignVersion.status)
            .join(Campaign, Campaign.id == CampaignVersion.campaign_id)
            .where(Campaign.store_id == store_id, Campaign.name == name)
        )
        return {number: str(status) for number, status in rows}


def enrollment_reasons(runtime: Runtime, store_id: UUID) -> list[str | None]:
    with transaction(runtime.sessions) as session:
        return list(
            session.scalars(select(Enrollment.end_reason).where(Enrollment.store_id == store_id))
        )


def sign_in(page: Page, relance_url: str, token: str) -> None:
    """Open /app and sign in with an admin API token; wait for the campaigns."""
    page.goto(f"{relance_url}/app")
    page.get_by_label("Admin API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#campaigns-card")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#store-status")).to_be_visible()


def open_campaign(page: Page, name: str) -> None:
    """From the list, open the campaign ``name``; wait for its page."""
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.locator("#campaign-name")).to_contain_text(name)
    expect(page.locator("#campaign-card")).not_to_have_attribute("aria-busy", "true")


def region(page: Page, name: str) -> Locator:
    """A card of the page (a ``section`` labelled by its heading)."""
    return page.get_by_role("region", name=name, exact=True)


def editor_document(page: Page) -> dict[str, Any]:
    text = region(page, "Draft editor").get_by_label("Definition (JSON)").input_value()
    document: dict[str, Any] = json.loads(text)
    return document


def selected_text(page: Page, selector: str) -> str:
    """The text selected in the textarea ``selector``, which must have the focus."""
    text: str = page.evaluate(
        """s => { const t = document.querySelector(s);
                  if (document.activeElement !== t) return "<not focused>";
                  return t.value.slice(t.selectionStart, t.selectionEnd); }""",
        selector,
    )
    return text


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

    # when they export the published campaign and stop it, from its page in the frame
    app.locator("#campaign-rows tr", has_text="Active").get_by_role("link").click()
    with page.expect_download() as exported:
        app.get_by_role("button", name="Export JSON").click()
    assert exported.value.suggested_filename == "post-purchase-thank-you-v1.json"
    app.get_by_role("button", name="Stop campaign").click()
    dialog = app.get_by_role("dialog", name=f"Stop “{TEMPLATE}”?")
    dialog.get_by_role("button", name="Stop campaign").click()
    # then the sandboxed frame allowed both (the Dashboard's allow-downloads; dialogs need none)
    expect(app.locator("#campaign-name")).to_contain_text("Stopped")
    app.get_by_role("link", name="Campaigns", exact=True).click()
    statuses = app.locator("#campaign-rows tr td:nth-child(2)")
    expect(statuses.filter(has_text="Stopped")).to_have_count(1)
    expect(statuses.filter(has_text="Draft")).to_have_count(1)

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


# -- one campaign: detail, versions, enrollments --------------------------------------------------


def test_a_campaign_shows_its_versions_and_its_enrollments_with_their_traces(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given the demo's published post-purchase campaign, which two customers entered by ordering
    demo = setup_demo(runtime)
    place_order(runtime, demo.store_id, "ada@example.com", language="fr")
    place_order(runtime, demo.store_id, "ben@example.com", language="de")
    sign_in(page, relance_url, demo.api_token)

    # when the merchant opens the campaign from the list
    open_campaign(page, TEMPLATE)
    # then its status, trigger and counts are shown
    expect(page.locator("#campaign-name")).to_contain_text("Active")
    expect(page.locator("#campaign-meta")).to_contain_text("Trigger: order.placed")
    stats = page.locator("#campaign-stats")
    expect(stats.locator(".stat", has_text="Enrolled").locator("dd")).to_have_text("2")
    expect(stats.locator(".stat", has_text="In progress").locator("dd")).to_have_text("2")
    # and its versions, with what became of their contacts
    v1 = page.locator("#version-rows tr[data-version='1']")
    expect(v1.locator("td").nth(0)).to_have_text("Published")
    expect(v1.locator("td").nth(1).locator("time")).to_have_attribute(
        "datetime", "2026-11-23T10:00:00+00:00"
    )
    expect(v1.locator("td.num")).to_have_text(["2", "2", "0", "0"])
    # and who is inside: the step they wait at and when they wake up
    rows = page.locator("#enrollment-list tr.enrollment-row")
    expect(rows).to_have_count(2)
    ada = rows.filter(has_text="ada@example.com")
    expect(ada.locator("td.who")).to_have_text("ada@example.comv1 · entered Nov 23, 2026, 10:00 AM")
    expect(ada.locator("td.status")).to_have_text("In progress")
    expect(ada.locator("td.step")).to_have_text("cross_sell_check")
    expect(ada.locator("td.wake time")).to_have_attribute("datetime", "2026-11-25T10:00:00+00:00")
    expect(ada.locator("td.wake")).to_have_text("Nov 25, 2026, 10:00 AM")
    expect(ada.locator("td.ended")).to_have_text("")
    expect(page.locator("#enrollments-status")).to_have_text("2 enrollments shown.")

    # when they expand Ada's trace
    toggle = ada.get_by_role("button", name=re.compile("trace"))
    expect(toggle).to_have_text("Show trace (5)")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    trace = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    expect(trace).to_be_hidden()
    toggle.click()
    # then every decision is listed in the order it was taken
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("Hide trace")
    expect(trace).to_be_visible()
    steps = trace.locator("tbody tr")
    expect(steps.locator("td:nth-child(3)")).to_have_text(
        ["entered", "branch", "send", "wait", "wait"]
    )
    expect(steps.nth(1)).to_contain_text("French")
    expect(steps.nth(2)).to_contain_text("thank_you_fr")
    shot(page, "13-campaign-detail", request)
    # and collapse it again
    toggle.click()
    expect(trace).to_be_hidden()

    # when only the completed ones are asked for
    region(page, "Enrollments").get_by_label("Show").select_option(label="Completed")
    # then there are none yet
    expect(page.locator("#enrollment-list")).to_have_text("No enrollments (completed).")

    # in a narrow frame the page does not scroll sideways (wide tables scroll on their own)
    page.set_viewport_size({"width": 560, "height": 860})
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    shot(page, "13b-campaign-narrow", request)
    page.set_viewport_size({"width": 1280, "height": 860})

    # the list is one link away, and Back returns to the campaign
    page.get_by_role("link", name="← All campaigns").click()
    expect(page.locator("#campaign-rows tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Campaigns", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.go_back()
    expect(page.locator("#campaign-name")).to_contain_text(TEMPLATE)


def test_versions_are_published_stopped_reverted_and_exported_from_the_campaign_page(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given the demo's published campaign (v1), with a customer inside
    demo = setup_demo(runtime)
    place_order(runtime, demo.store_id, "ada@example.com")
    sign_in(page, relance_url, demo.api_token)
    open_campaign(page, TEMPLATE)
    expect(page.locator("#editor-source")).to_contain_text("There is no draft")

    # when the merchant shortens the wait before the cross-sell and saves
    document = editor_document(page)
    assert document["$schema"] == "urn:relance:campaign-definition"
    wait = next(step for step in document["steps"] if step["id"] == "wait_2_days")
    wait["seconds"] = 86400
    editor = region(page, "Draft editor").get_by_label("Definition (JSON)")
    editor.fill(json.dumps(document, indent=2))
    expect(page.locator("#editor-state")).to_have_text("Unsaved changes")
    page.get_by_role("button", name="Save draft").click()
    # then draft v2 is saved, valid, and the overview shows the new wait
    expect(page.locator("#editor-result")).to_have_text("Draft v2 saved. It can be published.")
    expect(page.locator("#editor-state")).to_have_text("")
    expect(page.locator("#version-rows tr[data-version='2'] td").first).to_have_text("Draft")
    expect(page.locator("#outline [data-step-id='wait_2_days']")).to_contain_text("Wait 1 day")

    # when they publish it, the page asks what becomes of the contact inside v1
    page.get_by_role("button", name="Publish draft v2").click()
    dialog = page.get_by_role("dialog", name="Publish version 2 of “Post-purchase thank you”?")
    expect(dialog).to_be_visible()
    drain = dialog.get_by_role("radio", name=re.compile("^Drain"))
    stop = dialog.get_by_role("radio", name=re.compile("^Stop"))
    expect(drain).to_be_checked()
    expect(drain).to_be_focused()
    expect(dialog).to_contain_text("They finish version 1 as it is")
    expect(dialog).to_contain_text("They leave version 1 now")
    shot(page, "14-publish-drain-or-stop", request)
    # Escape cancels, back on the button, nothing published
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Publish draft v2")).to_be_focused()
    assert campaign_versions(runtime, demo.store_id, TEMPLATE) == {1: "published", 2: "draft"}
    # draining it is
    page.get_by_role("button", name="Publish draft v2").click()
    expect(drain).to_be_checked()
    stop.check()
    drain.check()
    dialog.get_by_role("button", name="Publish version 2").click()
    expect(page.locator("#flash")).to_contain_text("Version 2 of “Post-purchase thank you” is")
    expect(page.locator("#version-rows tr[data-version='2'] td").first).to_have_text("Published")
    expect(page.locator("#version-rows tr[data-version='1'] td").first).to_have_text("Draining")
    assert campaign_versions(runtime, demo.store_id, TEMPLATE) == {1: "draining", 2: "published"}

    # when they stop the campaign, everyone inside leaving now
    page.get_by_role("button", name="Stop campaign").click()
    dialog = page.get_by_role("dialog", name="Stop “Post-purchase thank you”?")
    expect(dialog).to_contain_text("They finish their run as planned")
    dialog.get_by_role("radio", name=re.compile("^Stop")).check()
    dialog.get_by_role("button", name="Stop campaign").click()
    # then it is stopped, both versions retired, and Ada left with the reason
    expect(page.locator("#flash")).to_contain_text("is stopped and everyone inside has left")
    expect(page.locator("#campaign-name")).to_contain_text("Stopped")
    expect(page.locator("#version-rows tr td:first-of-type")).to_have_text(["Retired", "Retired"])
    ada = page.locator("#enrollment-list tr.enrollment-row", has_text="ada@example.com")
    expect(ada.locator("td.status")).to_have_text("Exited")
    expect(ada.locator("td.ended")).to_contain_text("Campaign stopped")
    expect(ada.locator("td.ended")).to_contain_text("campaign_stopped")
    expect(page.get_by_role("button", name="Stop campaign")).to_have_count(0)
    assert enrollment_reasons(runtime, demo.store_id) == ["campaign_stopped"]

    # when they revert to version 1
    page.get_by_role("button", name="Revert to version 1").click()
    dialog = page.get_by_role("dialog", name="Revert to version 1?")
    expect(dialog).to_contain_text("A new draft, v3, is made from version 1")
    dialog.get_by_role("button", name="Revert to version 1").click()
    # then draft v3 is version 1's definition, in the editor
    expect(page.locator("#flash")).to_contain_text("Draft v3 is now a copy of version 1")
    expect(page.locator("#version-rows tr[data-version='3'] td").first).to_have_text("Draft")
    expect(page.locator("#editor-source")).to_contain_text("Editing draft v3")
    reverted = editor_document(page)
    assert next(s for s in reverted["steps"] if s["id"] == "wait_2_days")["seconds"] == 172800
    shot(page, "15-reverted", request)

    # when they export it
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export JSON").click()
    # then they get the draft as a document campaignImport reads back
    assert exported.value.suggested_filename == "post-purchase-thank-you-v3.json"
    saved = json.loads(Path(exported.value.path()).read_text())
    assert saved == reverted
    expect(page.locator("#flash")).to_contain_text("exported as post-purchase-thank-you-v3.json")
    # and any version on its own
    with page.expect_download() as exported:
        page.get_by_role("button", name="Export version 2").click()
    assert exported.value.suggested_filename == "post-purchase-thank-you-v2.json"
    v2 = json.loads(Path(exported.value.path()).read_text())
    assert next(s for s in v2["steps"] if s["id"] == "wait_2_days")["seconds"] == 86400
    assert campaign_statuses(runtime, demo.store_id) == {TEMPLATE: CampaignStatus.STOPPED}


# -- the draft editor -----------------------------------------------------------------------------


def test_the_editor_shows_every_violation_where_it_is(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given a draft made from the post-purchase template
    demo = setup_demo(runtime)
    seed_campaign(runtime, demo.store_id, name="Summer thanks", published=False)
    sign_in(page, relance_url, demo.api_token)
    open_campaign(page, "Summer thanks")
    editor = region(page, "Draft editor")
    text = editor.get_by_label("Definition (JSON)")
    result = page.locator("#editor-result")
    outline = page.locator("#outline")
    expect(page.locator("#editor-source")).to_contain_text("Editing draft v1")
    # the overview reads the graph in path order, from the entry step
    first = outline.locator(".outline-step").first
    expect(first).to_contain_text("1.Splitby_languageSplit on language")
    expect(first.locator(".outline-links li").first).to_have_text(
        "French: language = fr → goes to thank_you_fr"
    )
    expect(outline.locator("[data-step-id='next_weekday'] .outline-summary")).to_have_text(
        "Wait for the window 09:00–17:00 on Mon–Fri, contact's time"  # noqa: RUF001
    )
    # and its links go to their step
    first.get_by_role("button", name="thank_you_fr").click()
    expect(outline.locator("[data-step-id='thank_you_fr']")).to_be_focused()

    # when the merchant links a step to nowhere, names a design that does not exist and leaves
    # a step out of every path, then saves
    document = editor_document(page)
    document["steps"][1]["next"] = "nowhere"
    document["steps"][2]["design"] = "winter_sale"
    document["steps"].append({"id": "orphan", "type": "exit"})
    text.fill(json.dumps(document, indent=2))
    expect(page.locator("#editor-state")).to_have_text("Unsaved changes")
    # (Validate checks what is saved: it says so while there are unsaved changes)
    editor.get_by_role("button", name="Validate").click()
    expect(result).to_contain_text("Publishing rules are checked on the saved draft")
    editor.get_by_role("button", name="Save draft").click()
    # then the draft is saved, and every problem is listed with its path
    expect(result).to_contain_text("Draft v1 saved, but publishing would refuse it: 3 problems.")
    problems = result.locator("li")
    # (in the order of the document)
    expect(problems.locator("code")).to_have_text(["steps.1.next", "steps.2.design", "steps.12"])
    expect(problems.nth(0)).to_contain_text("nowhere")
    expect(problems.nth(0)).to_contain_text("UNKNOWN_STEP")
    expect(problems.nth(1)).to_contain_text("UNKNOWN_DESIGN")
    expect(problems.nth(2)).to_contain_text("UNREACHABLE")
    # and the overview marks the steps at fault
    expect(outline.locator(".outline-step.has-problem")).to_have_count(3)
    broken = outline.locator("[data-step-id='thank_you_fr']")
    expect(broken.locator(".outline-links")).to_contain_text("nowhere (no such step)")
    expect(outline.locator(".outline-rest")).to_contain_text("Not reachable from the entry step")
    expect(outline.locator(".outline-rest")).to_contain_text("orphan")
    shot(page, "16-editor-violations", request)

    # when they click a problem's path
    problems.nth(0).get_by_role("button", name="steps.1.next").click()
    # then the editor has it selected, and the overview highlights its step
    assert selected_text(page, "#editor-text") == '"next": "nowhere"'
    expect(broken).to_have_class(re.compile("is-selected"))
    problems.nth(1).get_by_role("button").click()
    assert selected_text(page, "#editor-text") == '"design": "winter_sale"'

    # when they validate the saved draft
    editor.get_by_role("button", name="Validate").click()
    # then the same problems are reported
    expect(result).to_contain_text("Draft v1 cannot be published yet: 3 problems.")
    expect(result.locator("li")).to_have_count(3)

    # when the JSON itself is broken
    broken_text = text.input_value().rstrip().removesuffix("}")
    text.fill(broken_text)
    # then the overview says so, and saving checks nothing
    expect(outline).to_contain_text("The JSON is not valid (line")
    expect(outline).to_contain_text("the document ends too early")
    editor.get_by_role("button", name="Save draft").click()
    expect(result).to_contain_text("The definition is not valid JSON; nothing was checked.")

    # when a value is out of range, the draft is not saved and the field is named
    document = editor_document_from(broken_text + "}")
    document["steps"][8]["seconds"] = 0
    text.fill(json.dumps(document, indent=2))
    editor.get_by_role("button", name="Save draft").click()
    expect(result).to_contain_text("Nothing was saved: fix these problems first.")
    expect(result.locator("li code")).to_have_text(["definition.steps.8.seconds"])
    expect(result.locator("li")).to_contain_text("greater than or equal to 1")
    result.get_by_role("button", name="definition.steps.8.seconds").click()
    assert selected_text(page, "#editor-text") == '"seconds": 0'
    assert campaign_versions(runtime, demo.store_id, "Summer thanks") == {1: "draft"}

    # unsaved changes survive a visit to the list
    page.get_by_role("link", name="← All campaigns").click()
    open_campaign(page, "Summer thanks")
    expect(page.locator("#editor-state")).to_have_text("Unsaved changes")
    assert editor_document(page)["steps"][8]["seconds"] == 0

    # when they discard their changes, the saved draft is back
    editor.get_by_role("button", name="Discard changes").click()
    expect(page.locator("#editor-state")).to_have_text("")
    assert editor_document(page)["steps"][8]["seconds"] == 172800
    assert editor_document(page)["steps"][1]["next"] == "nowhere"


def editor_document_from(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    return document


# -- creating: from scratch, by import ------------------------------------------------------------


def test_a_merchant_starts_a_campaign_from_scratch_or_imports_one(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    demo = setup_demo(runtime)
    sign_in(page, relance_url, demo.api_token)
    scratch = region(page, "Start from scratch")

    # when they ask for a blank campaign started by an event, without naming one
    scratch.get_by_label("Name").fill("VIP welcome")
    scratch.get_by_role("button", name="Create draft").click()
    # then the field at fault is named
    problem = page.get_by_role("alert")
    expect(problem).to_contain_text("The campaign could not be created.")
    expect(problem.locator("li code")).to_have_text(["trigger.events"])
    # when it is started by entering a list instead
    scratch.get_by_label("Started by").select_option(label="entering a list")
    scratch.get_by_label("List id").fill("vip")
    scratch.get_by_role("button", name="Create draft").click()
    # then its page opens on the new draft: a trigger and one exit step to build on
    expect(page.locator("#campaign-name")).to_contain_text("VIP welcome")
    expect(page.locator("#campaign-name")).to_contain_text("Draft")
    expect(page.locator("#campaign-name")).to_be_focused()
    expect(page.locator("#flash")).to_contain_text("“VIP welcome” was created as a draft")
    expect(page.locator("#campaign-meta")).to_contain_text("Trigger: enters list vip")
    expect(page.locator("#outline .outline-step")).to_have_count(1)
    expect(page.locator("#outline .outline-step")).to_contain_text("Exit")
    expect(page.locator("#outline .outline-rules")).to_contain_text("enters list vip")

    # when they go back and import a definition with two mistakes
    page.get_by_role("link", name="← All campaigns").click()
    importing = region(page, "Import a campaign")
    definition: dict[str, Any] = {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "wait",
        "steps": [
            {"id": "wait", "type": "delay", "seconds": 0, "next": "thanks"},
            {"id": "thanks", "type": "send_email", "design": "post_purchase", "colour": "red"},
        ],
    }
    importing.get_by_label("Name").fill("Imported thanks")
    text = importing.get_by_label("Definition (JSON)")
    text.fill("{" + json.dumps(definition, indent=2))
    importing.get_by_role("button", name="Import").click()
    # then broken JSON is refused before anything is sent
    result = page.locator("#import-result")
    expect(result).to_contain_text("Nothing was imported: the definition is not valid JSON.")
    expect(result).to_contain_text("line 1, column 2")
    text.fill(json.dumps(definition, indent=2))
    importing.get_by_role("button", name="Import").click()
    # and then each problem is listed by field, nothing being created
    expect(result).to_contain_text("Nothing was imported: 2 problems.")
    expect(result.locator("li code")).to_have_text(
        ["definition.steps.0.seconds", "definition.steps.1.colour"]
    )
    shot(page, "17-import-errors", request)
    result.get_by_role("button", name="definition.steps.1.colour").click()
    assert selected_text(page, "#import-text") == '"colour": "red"'
    assert "Imported thanks" not in campaign_statuses(runtime, demo.store_id)

    # when they fix them and import again
    definition["steps"][0]["seconds"] = 3600
    del definition["steps"][1]["colour"]
    text.fill(json.dumps(definition))
    importing.get_by_role("button", name="Import").click()
    # then the campaign page opens on the imported draft
    expect(page.locator("#campaign-name")).to_contain_text("Imported thanks")
    expect(page.locator("#flash")).to_contain_text("was imported as draft v1")
    steps = page.locator("#outline .outline-step")
    expect(steps.locator(".outline-summary")).to_have_text(
        ["Wait 1 hour", "Send the email design “post_purchase” (marketing)"]
    )
    expect(steps.nth(1).locator(".outline-links")).to_have_text("→ goes to end")
    assert campaign_statuses(runtime, demo.store_id) == {
        TEMPLATE: CampaignStatus.ACTIVE,
        "VIP welcome": CampaignStatus.DRAFT,
        "Imported thanks": CampaignStatus.DRAFT,
    }


# -- dry run and contact lookup -------------------------------------------------------------------


def test_a_dry_run_shows_the_path_a_contact_would_take(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given the demo's post-purchase campaign and a French-speaking contact
    demo = setup_demo(runtime)
    add_contact(runtime, demo.store_id, "ada@example.com", language="fr")
    sign_in(page, relance_url, demo.api_token)
    open_campaign(page, TEMPLATE)
    dry_run = region(page, "Dry run")
    result = page.locator("#dryrun-result")

    # when the merchant tries it for her, as if she had ordered
    dry_run.get_by_label("Contact email").fill("Ada@Example.com")
    dry_run.get_by_label("Event type").fill("order.placed")
    dry_run.get_by_role("button", name="Try it").click()
    # then the ordered path is shown, each decision with its time
    expect(result.locator(".dryrun-outcome")).to_contain_text("Completes — version 1, completed")
    path = result.get_by_role("list", name="Path of Ada@Example.com").locator("li")
    expect(path.locator(".action")).to_have_text(
        ["entered", "branch", "send", "wait", "wait", "branch", "skipped", "completed"]
    )
    # (the cross-sell is marketing, and she never subscribed)
    expect(path.nth(6)).to_contain_text("no_consent")
    expect(path.nth(1)).to_contain_text("French")
    expect(path.nth(2)).to_contain_text("thank_you_fr")
    expect(path.nth(0).locator("time")).to_have_attribute("datetime", "2026-11-23T10:00:00+00:00")
    expect(path.nth(5).locator("time")).to_have_attribute("datetime", "2026-11-25T10:00:00+00:00")
    shot(page, "18-dry-run", request)

    # when the event is not the campaign's trigger
    dry_run.get_by_label("Event type").fill("customer.signed_up")
    dry_run.get_by_role("button", name="Try it").click()
    # then she would not enter, and the page says why
    expect(result.locator(".dryrun-outcome")).to_contain_text("Would not enter")
    expect(result.locator(".dryrun-outcome")).to_contain_text("trigger_mismatch")

    # when the address is no contact of the store
    dry_run.get_by_label("Contact email").fill("nobody@example.com")
    dry_run.get_by_role("button", name="Try it").click()
    # then the field is named
    expect(result).to_contain_text("The dry run could not be made.")
    expect(result.locator("li")).to_contain_text("contactEmail")
    expect(result.locator("li")).to_contain_text("no such contact here")
    # and nothing was written
    assert enrollment_reasons(runtime, demo.store_id) == []


def test_a_contact_lookup_shows_every_run_of_a_contact_with_its_trace(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given two published campaigns on order.placed, and a customer who ordered
    demo = setup_demo(runtime)
    seed_campaign(runtime, demo.store_id, name="Thanks again")
    place_order(runtime, demo.store_id, "ada@example.com", language="de")
    place_order(runtime, demo.store_id, "ben@example.com")
    sign_in(page, relance_url, demo.api_token)

    # when the merchant looks her up
    page.get_by_role("link", name="Contacts", exact=True).click()
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    page.get_by_label("Email", exact=True).fill("ADA@example.com")
    page.get_by_role("button", name="Look up").click()
    # then each campaign run of hers is listed (and no one else's)
    result = page.locator("#contact-result")
    expect(result).to_contain_text("2 campaign runs for ADA@example.com, newest first.")
    rows = result.locator("tr.enrollment-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=TEMPLATE)).to_have_count(1)
    expect(rows.locator("td.status")).to_have_text(["In progress", "In progress"])
    # with what each campaign did to her
    again = rows.filter(has_text="Thanks again")
    toggle = again.get_by_role("button", name=re.compile("trace"))
    toggle.click()
    trace = page.locator(f"#{toggle.get_attribute('aria-controls')}")
    expect(trace.locator("tbody tr").nth(1)).to_contain_text("German")
    shot(page, "19-contact-lookup", request)

    # a campaign's name opens it
    again.get_by_role("link", name="Thanks again").click()
    expect(page.locator("#campaign-name")).to_contain_text("Thanks again")
    expect(page.locator("#enrollment-list tr.enrollment-row")).to_have_count(2)

    # and an unknown address has none
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_label("Email", exact=True).fill("nobody@example.com")
    page.get_by_role("button", name="Look up").click()
    expect(result).to_contain_text("No campaign runs for nobody@example.com")
    expect(result.locator("table")).to_have_count(0)


def test_inside_the_dashboard_a_reader_sees_a_campaign_but_cannot_change_it(
    page: Page,
    runtime: Runtime,
    relance_url: str,
    fake_saleor: FakeSaleor,
    dashboard: FakeDashboard,
    request: pytest.FixtureRequest,
) -> None:
    # given a Saleor store with a published campaign a customer entered, and a Dashboard user
    # without MANAGE_USERS
    store = install_store(runtime, fake_saleor)
    seed_campaign(runtime, store.id)
    place_order(runtime, store.id, "ada@example.com")
    reader = fake_saleor.signer.dashboard_token(
        iss=fake_saleor.api_url,
        app=fake_saleor.app_id,
        user_id="VXNlcjo5",
        user_permissions=("MANAGE_ORDERS",),
        now=runtime.clock(),
    )
    calls = record_graphql(page)
    page.goto(
        dashboard.page_url(
            app_src=app_src(relance_url, fake_saleor, theme="dark"),
            token=reader,
            auto=True,
            with_other_site=False,
        )
    )
    app = page.frame_locator("iframe[name=relance]")
    expect(app.get_by_text("You can see campaigns but not change them")).to_be_visible()

    # when they open the campaign
    app.get_by_role("link", name=TEMPLATE).click()
    # then they see it, its versions and who is inside, with the trace
    expect(app.locator("#campaign-name")).to_contain_text("Active")
    expect(app.locator("#campaign-name")).to_be_focused()
    expect(app.locator("#version-rows tr[data-version='1'] td.num")).to_have_text(
        ["1", "1", "0", "0"]
    )
    row = app.locator("#enrollment-list tr.enrollment-row", has_text="ada@example.com")
    row.get_by_role("button", name="Show trace (5)").click()
    expect(app.locator("#enrollment-list .trace-row:not([hidden]) tbody tr")).to_have_count(5)
    # and may export it, but changes are disabled (relance would refuse them anyway)
    expect(app.get_by_role("button", name="Export JSON")).to_be_enabled()
    expect(app.get_by_role("button", name="Stop campaign")).to_be_disabled()
    expect(app.get_by_role("button", name="Revert to version 1")).to_be_disabled()
    expect(app.get_by_role("button", name="Save draft")).to_be_disabled()
    expect(app.get_by_role("button", name="Validate")).to_be_disabled()
    expect(app.locator("#editor-text")).to_have_attribute("readonly", "")
    expect(app.get_by_role("button", name="Try it")).to_be_disabled()
    shot(page, "20-dashboard-reader-campaign", request)

    # when they look the customer up
    app.get_by_role("link", name="Contacts", exact=True).click()
    app.get_by_label("Email", exact=True).fill("ada@example.com")
    app.get_by_role("button", name="Look up").click()
    # then they see her run
    expect(app.locator("#contact-result")).to_contain_text("1 campaign run for ada@example.com")
    # every call carried the Dashboard's token
    assert {call.all_headers()["authorization-bearer"] for call in calls} == {reader}


def test_publishing_from_the_list_asks_too_and_a_drained_stop_can_be_finished(
    page: Page, runtime: Runtime, relance_url: str, request: pytest.FixtureRequest
) -> None:
    # given the demo's campaign with Ada inside v1, and a draft v2 saved as it is
    demo = setup_demo(runtime)
    place_order(runtime, demo.store_id, "ada@example.com")
    sign_in(page, relance_url, demo.api_token)
    open_campaign(page, TEMPLATE)
    region(page, "Draft editor").get_by_role("button", name="Save draft").click()
    expect(page.locator("#editor-result")).to_have_text("Draft v2 saved. It can be published.")
    page.get_by_role("link", name="← All campaigns").click()

    # when the merchant publishes v2 from the list, choosing Stop
    page.get_by_role("button", name=f"Publish version 2 of {TEMPLATE}").click()
    dialog = page.get_by_role("dialog", name=f"Publish version 2 of “{TEMPLATE}”?")
    dialog.get_by_role("radio", name=re.compile("^Stop")).check()
    dialog.get_by_role("button", name="Publish version 2").click()
    # then v1 is retired at once and Ada left it
    expect(page.locator("#flash")).to_contain_text("is published (v2)")
    assert campaign_versions(runtime, demo.store_id, TEMPLATE) == {1: "retired", 2: "published"}
    assert enrollment_reasons(runtime, demo.store_id) == ["version_replaced"]

    # when Ben enters v2 and the campaign is stopped with Drain
    place_order(runtime, demo.store_id, "ben@example.com")
    open_campaign(page, TEMPLATE)
    page.get_by_role("button", name="Stop campaign").click()
    page.get_by_role("dialog").get_by_role("button", name="Stop campaign").click()
    # then Ben finishes v2, which drains
    expect(page.locator("#flash")).to_contain_text("those inside finish their run")
    expect(page.locator("#version-rows tr[data-version='2'] td").first).to_have_text("Draining")
    ben = page.locator("#enrollment-list tr.enrollment-row", has_text="ben@example.com")
    expect(ben.locator("td.status")).to_have_text("In progress")

    # when the merchant removes the contacts still inside after all
    page.get_by_role("button", name="Remove contacts still inside").click()
    dialog = page.get_by_role("dialog", name=f"Remove the contacts still inside “{TEMPLATE}”?")
    dialog.get_by_role("button", name="Remove them").click()
    # then v2 is retired and Ben has left
    expect(page.locator("#version-rows tr[data-version='2'] td").first).to_have_text("Retired")
    expect(ben.locator("td.ended")).to_contain_text("campaign_stopped")
    expect(page.get_by_role("button", name="Remove contacts still inside")).to_have_count(0)
    shot(page, "21-stopped-after-drain", request)
