// relance admin page: plain ES modules, no framework, no build step. This is the entry module:
// signing in, the campaigns list (templates, blank campaigns, import) and the routes.
//
// Two ways in (docs/admin-page.md):
// - inside the Saleor Dashboard (the iframe URL has ?saleorApiUrl=…): the App Bridge handshake as
//   @saleor/app-sdk does it (src/app-bridge/app-bridge.ts): post `notifyReady` to the parent, accept
//   `handshake` / `tokenRefresh` / `theme` / `localeChanged` only from the origin of
//   document.referrer, keep the token in memory, and call /graphql with the headers app-sdk's fetch
//   sends (`authorization-bearer`, `saleor-api-url`);
// - anywhere else: a sign-in form for an admin API token (rl_…), kept in sessionStorage and sent
//   as `Authorization: Bearer`.
//
// Routes are the URL's fragment, so Back works and a reload stays put: `#campaigns` (the list),
// `#campaign/<id>` (one campaign: campaign.js), `#contacts` (contact lookup: contacts.js).
//
// All data reaches the page through textContent and DOM APIs: the CSP enforces Trusted Types with
// no policy, so any string written to innerHTML would throw.

import { CREATE_BLANK, CREATE_FROM_TEMPLATE, IMPORT_CAMPAIGN, PAGE_QUERY, gql } from "./api.js";
import {
  CAMPAIGN_STATUS,
  campaignHref,
  initCampaignView,
  openCampaign,
  problemList,
  publishDraft,
  stashEdits,
  statusChip,
} from "./campaign.js";
import { initContactsView, openContacts } from "./contacts.js";
import { MANAGE_PERMISSION, inDashboard, params, state } from "./context.js";
import { $, formatDate, formatNumber, h } from "./dom.js";
import { parseText, selectPath, selectRange } from "./json-text.js";
import {
  applyPermissions,
  clearNotices,
  flash,
  handleFailure,
  onUnauthenticated,
  runMutation,
  setBusy,
  showProblem,
} from "./ui.js";

const TOKEN_KEY = "relance.apiToken";
const STORE_STATUS_LABELS = {
  ACTIVE: "Connected",
  DISCONNECTED: "Disconnected",
  UNINSTALLED: "Uninstalled",
};
/** The events a trigger may name (docs/campaign-format.md), offered as suggestions. */
const EVENT_NAMES = [
  "cart.abandoned",
  "order.placed",
  "order.paid",
  "order.cancelled",
  "order.refunded",
  "checkout.updated",
  "customer.signed_up",
  "customer.confirmed",
  "customer.updated",
  "newsletter.subscribed",
  "list.entered",
  "list.exited",
  "message.opened",
  "message.clicked",
  "message.bounced",
  "sms.received",
  "date.reached",
];

const dashboardOrigin = originOf(document.referrer);
/** The page's data (store, campaigns, templates) once loaded; a message to show after a route. */
let pageData = null;
let pendingFlash = null;

function originOf(url) {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

function show(view) {
  for (const id of ["view-loading", "view-waiting", "view-signin", "view-app"]) {
    $(id).hidden = id !== view;
  }
}

function applyTheme(theme) {
  // Same rule as app-sdk: only "light" and "dark" mean something; otherwise follow the system.
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function applyLocale(locale) {
  if (typeof locale !== "string" || !locale) return;
  state.locale = locale.replace(/_/g, "-");
  if (!pageData) return;
  render(pageData);
  const current = currentRoute();
  if (current.name === "campaign") openCampaign(current.id, { focus: false });
}

// --- routes ---------------------------------------------------------------------------------------

function currentRoute() {
  const hash = window.location.hash.replace(/^#/, "");
  if (hash.startsWith("campaign/")) {
    try {
      return { name: "campaign", id: decodeURIComponent(hash.slice("campaign/".length)) };
    } catch {
      return { name: "campaigns" };
    }
  }
  if (hash === "contacts") return { name: "contacts" };
  return { name: "campaigns" };
}

/** Go to `hash`, then show `message` once the view has loaded. */
function go(hash, message) {
  pendingFlash = message || null;
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

/** Show the view of the current fragment. `initial`: the list was just loaded with the page. */
async function route({ initial = false, focus = true } = {}) {
  const current = currentRoute();
  $("list-view").hidden = current.name !== "campaigns";
  $("campaign-view").hidden = current.name !== "campaign";
  $("contacts-view").hidden = current.name !== "contacts";
  const contacts = current.name === "contacts";
  $("page-title").textContent = contacts ? "Contacts" : "Campaigns";
  for (const [id, active] of [
    ["nav-campaigns", !contacts],
    ["nav-contacts", contacts],
  ]) {
    if (active) $(id).setAttribute("aria-current", "page");
    else $(id).removeAttribute("aria-current");
  }
  if (current.name !== "campaign") stashEdits();
  if (current.name === "campaigns") {
    if (pageData) document.title = `Campaigns · ${pageData.me.name || pageData.me.apiUrl} · relance`;
    if (!initial && !(await load())) return;
    if (!initial && focus) $("campaigns-title").focus();
  } else if (current.name === "campaign") {
    if (!(await openCampaign(current.id, { focus }))) return;
  } else {
    document.title = "Contacts · relance";
    openContacts({ focus });
  }
  if (pendingFlash) flash(pendingFlash);
  pendingFlash = null;
}

window.addEventListener("hashchange", () => {
  if (state.token === null || pageData === null) return;
  clearNotices();
  route();
});

// --- loading and rendering the list -------------------------------------------------------------

async function load({ initial = false } = {}) {
  if (initial) {
    show("view-app");
    setLoadingRows();
  }
  $("campaigns-card").setAttribute("aria-busy", "true");
  try {
    const data = await gql(PAGE_QUERY);
    pageData = data;
    render(data);
    return true;
  } catch (error) {
    if (pageData === null) {
      const note = "Not loaded: see the message above, then try Refresh.";
      $("campaign-rows").replaceChildren(
        h("tr", { cls: "loading-row" }, h("td", { text: note, attrs: { colspan: "7" } })),
      );
      $("templates").replaceChildren(h("li", { cls: "muted", text: note }));
    }
    handleFailure(error, "The campaigns could not be loaded.");
    return false;
  } finally {
    $("campaigns-card").removeAttribute("aria-busy");
  }
}

function setLoadingRows() {
  $("campaigns-empty").hidden = true;
  $("campaigns").hidden = false;
  $("campaign-rows").replaceChildren(
    h("tr", { cls: "loading-row" }, h("td", { text: "Loading campaigns…", attrs: { colspan: "7" } })),
  );
  $("templates").replaceChildren(h("li", { cls: "muted", text: "Loading templates…" }));
}

function render(data) {
  show("view-app");
  renderStore(data.me);
  renderCampaigns(data.campaigns || []);
  renderTemplates(data.campaignTemplates || []);
  $("read-only").hidden = state.canManage;
  applyPermissions();
}

function renderStore(me) {
  const named = me.name && me.name !== me.apiUrl;
  $("store-line").textContent = named ? `${me.name} · ${me.apiUrl}` : me.apiUrl;
  $("store-line").title = me.apiUrl;
  const chip = $("store-status");
  chip.textContent = STORE_STATUS_LABELS[me.status] || me.status;
  chip.className = `chip ${me.status === "ACTIVE" ? "ok" : "warn"}`;
  chip.hidden = false;
  if (currentRoute().name === "campaigns") document.title = `Campaigns · ${me.name || me.apiUrl} · relance`;
}

function renderCampaigns(campaigns) {
  const rows = campaigns.map((campaign) => {
    const published = campaign.publishedVersion;
    const draft = campaign.draftVersion;
    const about = [campaign.trigger?.summary, campaign.templateKey ? `from ${campaign.templateKey}` : null];
    const nameCell = h(
      "td",
      { cls: "name" },
      h("a", { cls: "primary", text: campaign.name, attrs: { href: campaignHref(campaign.id) } }),
      about.some(Boolean)
        ? h("span", { cls: "secondary", text: about.filter(Boolean).join(" · ") })
        : null,
    );
    const publishedCell = h(
      "td",
      { cls: "version" },
      published
        ? h("span", { cls: "primary", text: `v${published.number}` })
        : h("span", { cls: "muted", text: "—" }),
      published?.publishedAt
        ? h("span", { cls: "secondary", text: formatDate(published.publishedAt) })
        : null,
    );
    const actions = h("td", { cls: "actions-col" });
    if (draft) {
      const button = h("button", {
        cls: "button primary small",
        text: `Publish v${draft.number}`,
        attrs: {
          type: "button",
          "data-action": "publish",
          "aria-label": `Publish version ${draft.number} of ${campaign.name}`,
        },
      });
      button.addEventListener("click", async () => {
        const done = await publishDraft(campaign, button);
        if (done && (await load())) {
          flash(`“${done.name}” is published (v${done.publishedVersion.number}) and takes new contacts.`);
        }
      });
      actions.append(button);
    }
    return h(
      "tr",
      { attrs: { "data-campaign-id": campaign.id } },
      nameCell,
      h("td", {}, statusChip(campaign.status, CAMPAIGN_STATUS)),
      publishedCell,
      h("td", { cls: "num", text: formatNumber(campaign.stats.enrolled) }),
      h("td", { cls: "num", text: formatNumber(campaign.stats.active) }),
      h("td", { cls: "num", text: formatNumber(campaign.stats.messagesSent) }),
      actions,
    );
  });
  $("campaign-rows").replaceChildren(...rows);
  $("campaigns").hidden = campaigns.length === 0;
  $("campaigns-empty").hidden = campaigns.length !== 0;
}

function renderTemplates(templates) {
  const items = templates.map((template) => {
    const input = h("input", {
      attrs: {
        type: "text",
        name: "name",
        placeholder: template.name,
        "aria-label": `Name of the new ${template.name} campaign`,
        maxlength: "200",
        "data-manage": "",
      },
    });
    const button = h("button", {
      cls: "button primary",
      text: "Create campaign",
      attrs: { type: "submit", "data-action": "create" },
    });
    const form = h(
      "form",
      { cls: "template-form", attrs: { "data-template": template.key } },
      input,
      button,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      createFromTemplate(template, input.value.trim(), button);
    });
    return h(
      "li",
      { cls: "template" },
      h(
        "div",
        { cls: "template-text" },
        h("h3", { text: template.name }),
        h("p", { cls: "muted", text: template.description }),
      ),
      form,
    );
  });
  $("templates").replaceChildren(...items);
  $("templates-empty").hidden = templates.length !== 0;
}

// --- creating campaigns ----------------------------------------------------------------------------

async function createFromTemplate(template, name, button) {
  const payload = await runMutation({
    button,
    pendingText: "Creating…",
    failureTitle: `The campaign could not be created from “${template.name}”.`,
    query: CREATE_FROM_TEMPLATE,
    variables: { templateKey: template.key, name: name || null },
    field: "campaignCreateFromTemplate",
  });
  if (payload && (await load())) {
    flash(`“${payload.campaign.name}” was created as a draft. Publish it to start taking contacts.`);
  }
}

function updateBlankForm() {
  const byEvent = $("blank-type").value === "event";
  $("blank-value-label").textContent = byEvent ? "Events" : "List id";
  $("blank-value").setAttribute("list", byEvent ? "event-names" : "");
  $("blank-value-hint").hidden = !byEvent;
}

async function createBlank() {
  const name = $("blank-name").value.trim();
  const type = $("blank-type").value;
  const value = $("blank-value").value.trim();
  const trigger =
    type === "event"
      ? { type, events: value.split(",").map((item) => item.trim()).filter(Boolean) }
      : { type, list_id: value };
  const payload = await runMutation({
    button: $("blank-create"),
    pendingText: "Creating…",
    failureTitle: "The campaign could not be created.",
    query: CREATE_BLANK,
    variables: { name, trigger },
    field: "campaignCreate",
    locate: (field) =>
      field === "name"
        ? () => $("blank-name").focus()
        : String(field).startsWith("trigger")
          ? () => $("blank-value").focus()
          : null,
  });
  if (!payload) return;
  $("blank-form").reset();
  updateBlankForm();
  go(
    campaignHref(payload.campaign.id),
    `“${payload.campaign.name}” was created as a draft: add its steps in the editor.`,
  );
}

async function importCampaign() {
  const result = $("import-result");
  const name = $("import-name").value.trim();
  const text = $("import-text");
  const fail = (title, problems) =>
    result.replaceChildren(
      h(
        "div",
        { cls: "result error" },
        h("strong", { text: title }),
        problemList(problems, (field) => {
          if (field === "name") return () => $("import-name").focus();
          const path = String(field).replace(/^definition\.?/, "");
          return () => selectPath(text, path);
        }),
      ),
    );
  const parsed = parseText(text.value);
  if (!text.value.trim()) {
    fail("Nothing was imported.", [{ field: null, message: "Paste a campaign definition (JSON)." }]);
    text.focus();
    return;
  }
  if (parsed.error) {
    fail("Nothing was imported: the definition is not valid JSON.", [
      { field: null, message: parsed.error },
    ]);
    if (parsed.offset !== null) selectRange(text, parsed.offset, parsed.offset + 1);
    return;
  }
  result.replaceChildren();
  const payload = await runMutation({
    button: $("import-button"),
    pendingText: "Importing…",
    failureTitle: "Nothing was imported.",
    query: IMPORT_CAMPAIGN,
    variables: { name, definition: parsed.value },
    field: "campaignImport",
    onErrors: (errors) => {
      const count = errors.length;
      fail(`Nothing was imported: ${count} problem${count === 1 ? "" : "s"}.`, errors);
    },
  });
  if (!payload) return;
  $("import-form").reset();
  go(
    campaignHref(payload.campaign.id),
    `“${payload.campaign.name}” was imported as draft v${payload.campaign.draftVersion.number}. ` +
      "Validate it, then publish it.",
  );
}

// --- Saleor Dashboard: App Bridge ----------------------------------------------------------------

function showWaiting(hint) {
  if (hint) $("waiting-hint").textContent = hint;
  show("view-waiting");
}

/** What the Dashboard lets this user do, read from the token like app-sdk's extractUserFromJwt.
 * Only a hint for the buttons: relance checks the permission on every mutation. */
function tokenCanManage(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    const granted = claims.user_permissions;
    return !Array.isArray(granted) || granted.includes(MANAGE_PERMISSION);
  } catch {
    return true;
  }
}

async function start() {
  clearNotices();
  if (await load({ initial: true })) await route({ initial: true, focus: false });
}

function acceptToken(token) {
  const first = state.token === null;
  state.token = token;
  state.canManage = tokenCanManage(token);
  if (first) {
    start();
  } else if (pageData) {
    $("read-only").hidden = state.canManage;
    applyPermissions();
  }
}

function onBridgeMessage(event) {
  // app-sdk accepts a message only when its origin is document.referrer's origin (the Dashboard
  // that framed us); relance also requires it to come from the parent window itself.
  if (dashboardOrigin === null || event.origin !== dashboardOrigin || event.source !== window.parent) {
    console.debug(`relance: ignored a message from ${event.origin} (expecting ${dashboardOrigin})`);
    return;
  }
  const data = event.data;
  if (!data || typeof data !== "object" || typeof data.type !== "string") return;
  const payload = data.payload && typeof data.payload === "object" ? data.payload : {};
  switch (data.type) {
    case "handshake":
    case "tokenRefresh":
      if (typeof payload.token === "string" && payload.token) acceptToken(payload.token);
      break;
    case "theme":
      applyTheme(payload.theme);
      break;
    case "localeChanged":
      applyLocale(payload.locale);
      break;
    default:
      break; // "response" (to notifyReady), "redirect", form payloads: nothing to do
  }
}

function newActionId() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function startDashboard() {
  applyTheme(params.get("theme"));
  window.addEventListener("message", onBridgeMessage);
  if (window.parent === window) {
    showWaiting(
      "This address is meant to be opened by the Saleor Dashboard (Apps → relance). To use " +
        "relance outside Saleor, open it without the saleorApiUrl parameter and sign in with " +
        "an API token.",
    );
    return;
  }
  if (dashboardOrigin === null) {
    showWaiting(
      "The page cannot tell which Dashboard framed it (no referrer), so it cannot trust its " +
        "messages. Check that the Dashboard does not send Referrer-Policy: no-referrer.",
    );
    return;
  }
  showWaiting();
  // app-sdk's AppBridge sends notifyReady as soon as it is constructed (autoNotifyReady); the
  // Dashboard answers with a handshake (again) and a `response` for the action id. app-sdk posts
  // it to "*"; the Dashboard is the only window we talk to, so we name its origin.
  const notifyReady = { type: "notifyReady", payload: { actionId: newActionId() } };
  window.parent.postMessage(notifyReady, dashboardOrigin);
}

// --- elsewhere: API token ------------------------------------------------------------------------

function storedToken() {
  try {
    return window.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage blocked: the token lives only in memory
  }
}

function storeToken(token) {
  try {
    if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
    else window.sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage blocked: keep going with the in-memory token
  }
}

function showTokenError(message) {
  $("token-error").textContent = message;
  $("token-error").hidden = !message;
  $("token-input").setAttribute("aria-invalid", message ? "true" : "false");
}

function signOut() {
  state.token = null;
  pageData = null;
  storeToken(null);
  clearNotices();
  $("sign-out").hidden = true;
  $("store-status").hidden = true;
  $("store-line").textContent = "relance";
  document.title = "relance";
  showTokenError("");
  $("token-input").value = "";
  show("view-signin");
  $("token-input").focus();
}

async function signIn(token) {
  state.token = token;
  storeToken(token);
  $("sign-out").hidden = false;
  await start();
}

function startEmbedded() {
  applyTheme(params.get("theme"));
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) {
      showTokenError("Paste your admin API token.");
      return;
    }
    if (!token.startsWith("rl_")) {
      showTokenError("relance admin API tokens start with rl_.");
      return;
    }
    showTokenError("");
    signIn(token);
  });
  $("sign-out").addEventListener("click", signOut);
  const token = storedToken();
  if (token) signIn(token);
  else signOut();
}

onUnauthenticated((error) => {
  if (inDashboard) {
    state.token = null;
    showWaiting(
      "The Dashboard session was refused by relance (expired, or relance is not installed " +
        "for this store). Reload the page in the Dashboard.",
    );
    showProblem("Your Saleor Dashboard session was not accepted.", error.lines);
  } else {
    signOut();
    showTokenError("This token was refused: it is unknown, revoked, or its store was uninstalled.");
  }
});

// --- start ---------------------------------------------------------------------------------------

$("event-names").replaceChildren(...EVENT_NAMES.map((name) => h("option", { attrs: { value: name } })));
$("refresh").addEventListener("click", async () => {
  if (state.busy) return;
  clearNotices();
  setBusy(true);
  try {
    await load();
  } finally {
    setBusy(false);
  }
});
$("blank-type").addEventListener("change", updateBlankForm);
$("blank-form").addEventListener("submit", (event) => {
  event.preventDefault();
  createBlank();
});
$("import-form").addEventListener("submit", (event) => {
  event.preventDefault();
  importCampaign();
});
initCampaignView();
initContactsView();

if (inDashboard) startDashboard();
else startEmbedded();
