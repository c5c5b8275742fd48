// relance admin page: one ES module, no framework, no build step.
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
// All data reaches the page through textContent and DOM APIs: the CSP enforces Trusted Types with
// no policy, so any string written to innerHTML would throw.

const TOKEN_KEY = "relance.apiToken";
const MANAGE_PERMISSION = "MANAGE_USERS";
const GRAPHQL_URL = new URL("graphql", document.baseURI).href;

const PAGE_QUERY = `query AdminPage {
  me { id name apiUrl status }
  campaigns {
    id name status templateKey updatedAt
    publishedVersion { number publishedAt }
    draftVersion { number }
    stats { enrolled active messagesSent }
  }
  campaignTemplates { key name description }
}`;

const CREATE_MUTATION = `mutation CreateCampaign($templateKey: String!, $name: String) {
  campaignCreateFromTemplate(templateKey: $templateKey, name: $name) {
    campaign { id name status }
    errors { field code message }
  }
}`;

const PUBLISH_MUTATION = `mutation PublishCampaign($id: ID!) {
  campaignPublish(id: $id) {
    campaign { id name status publishedVersion { number } }
    errors { field code message }
  }
}`;

const STATUS_LABELS = { ACTIVE: "Active", DRAFT: "Draft", STOPPED: "Stopped" };
const STORE_STATUS_LABELS = {
  ACTIVE: "Connected",
  DISCONNECTED: "Disconnected",
  UNINSTALLED: "Uninstalled",
};

// --- state ------------------------------------------------------------------------------------

const params = new URLSearchParams(window.location.search);
const saleorApiUrl = params.get("saleorApiUrl") || "";
const inDashboard = saleorApiUrl !== "";
const dashboardOrigin = originOf(document.referrer);

const state = {
  token: null,
  canManage: true,
  busy: false,
  data: null,
  locale: (params.get("locale") || navigator.language || "en").replace(/_/g, "-"),
};

// --- tiny DOM helpers ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with a class and text (always textContent), then children. */
function h(tag, { cls, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

function show(view) {
  for (const id of ["view-loading", "view-waiting", "view-signin", "view-app"]) {
    $(id).hidden = id !== view;
  }
}

function originOf(url) {
  try {
    return url ? new URL(url).origin : null;
  } catch {
    return null;
  }
}

function formatNumber(value) {
  try {
    return new Intl.NumberFormat(state.locale).format(value);
  } catch {
    return String(value);
  }
}

function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  try {
    return new Intl.DateTimeFormat(state.locale, { dateStyle: "medium" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
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
  if (state.data) render(state.data);
}

// --- notices ------------------------------------------------------------------------------------

function clearNotices() {
  $("problem").hidden = true;
  $("flash").hidden = true;
}

/** Show a problem: a title and lines of [field, message, code]. */
function showProblem(title, lines = []) {
  $("flash").hidden = true;
  $("problem-title").textContent = title;
  const list = $("problem-list");
  list.replaceChildren(
    ...lines.map(({ field, message, code }) =>
      h(
        "li",
        {},
        field ? h("code", { cls: "field", text: field }) : null,
        h("span", { text: message }),
        code ? h("span", { cls: "code", text: code }) : null,
      ),
    ),
  );
  list.hidden = lines.length === 0;
  $("problem").hidden = false;
}

function flash(message) {
  $("problem").hidden = true;
  $("flash").textContent = message;
  $("flash").hidden = false;
}

// --- GraphQL ------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(kind, message, lines = []) {
    super(message);
    this.kind = kind; // "network" | "http" | "unauthenticated" | "forbidden" | "graphql"
    this.lines = lines;
  }
}

function authHeaders() {
  if (inDashboard) {
    // app-sdk src/app-bridge/fetch.ts sends the token as `authorization-bearer`; relance also
    // needs to know which store it is for.
    return { "authorization-bearer": state.token, "saleor-api-url": saleorApiUrl };
  }
  return { authorization: `Bearer ${state.token}` };
}

async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(GRAPHQL_URL, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...authHeaders() },
      body: JSON.stringify({ query, variables }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("network", "relance could not be reached. Check the connection and try again.");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("http", `relance answered ${response.status} ${response.statusText}`.trim());
  }
  const errors = Array.isArray(body?.errors) ? body.errors : [];
  if (errors.length) {
    const codes = errors.map((error) => error?.extensions?.code);
    const lines = errors.map((error) => ({
      field: Array.isArray(error?.path) ? error.path.join(".") : "",
      message: String(error?.message ?? "Unknown error"),
      code: error?.extensions?.code ? String(error.extensions.code) : "",
    }));
    if (codes.includes("UNAUTHENTICATED")) {
      throw new ApiError("unauthenticated", lines[0].message, lines);
    }
    if (codes.includes("FORBIDDEN")) throw new ApiError("forbidden", lines[0].message, lines);
    throw new ApiError("graphql", "relance could not answer this request.", lines);
  }
  if (!response.ok || !body?.data) {
    throw new ApiError("http", `relance answered ${response.status} ${response.statusText}`.trim());
  }
  return body.data;
}

// --- loading and rendering -----------------------------------------------------------------------

async function load({ initial = false } = {}) {
  if (initial) {
    show("view-app");
    setLoadingRows();
  }
  $("campaigns-card").setAttribute("aria-busy", "true");
  try {
    const data = await gql(PAGE_QUERY);
    state.data = data;
    render(data);
    return true;
  } catch (error) {
    if (state.data === null) {
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

function handleFailure(error, title) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    showProblem(title, [{ message: String(error?.message ?? error) }]);
    return;
  }
  if (error.kind === "unauthenticated") {
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
    return;
  }
  showProblem(
    error.kind === "forbidden" ? "You are not allowed to do this." : title,
    error.lines.length ? error.lines : [{ message: error.message }],
  );
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
}

function renderStore(me) {
  const named = me.name && me.name !== me.apiUrl;
  $("store-line").textContent = named ? `${me.name} · ${me.apiUrl}` : me.apiUrl;
  $("store-line").title = me.apiUrl;
  const chip = $("store-status");
  chip.textContent = STORE_STATUS_LABELS[me.status] || me.status;
  chip.className = `chip ${me.status === "ACTIVE" ? "ok" : "warn"}`;
  chip.hidden = false;
  document.title = `Campaigns · ${me.name || me.apiUrl} · relance`;
}

function statusChip(status) {
  const cls = `chip status-${String(status).toLowerCase()}`;
  return h("span", { cls, text: STATUS_LABELS[status] || status });
}

function renderCampaigns(campaigns) {
  const rows = campaigns.map((campaign) => {
    const published = campaign.publishedVersion;
    const draft = campaign.draftVersion;
    const nameCell = h(
      "td",
      { cls: "name" },
      h("span", { cls: "primary", text: campaign.name }),
      campaign.templateKey
        ? h("span", { cls: "secondary", text: `from ${campaign.templateKey}` })
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
      button.disabled = !state.canManage;
      button.addEventListener("click", () => publish(campaign, button));
      actions.append(button);
    }
    const row = h(
      "tr",
      { attrs: { "data-campaign-id": campaign.id } },
      nameCell,
      h("td", {}, statusChip(campaign.status)),
      publishedCell,
      h("td", { cls: "num", text: formatNumber(campaign.stats.enrolled) }),
      h("td", { cls: "num", text: formatNumber(campaign.stats.active) }),
      h("td", { cls: "num", text: formatNumber(campaign.stats.messagesSent) }),
      actions,
    );
    return row;
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
      },
    });
    const button = h("button", {
      cls: "button primary",
      text: "Create campaign",
      attrs: { type: "submit", "data-action": "create" },
    });
    button.disabled = !state.canManage;
    input.disabled = !state.canManage;
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

// --- mutations -----------------------------------------------------------------------------------

function setBusy(busy) {
  state.busy = busy;
  for (const node of document.querySelectorAll("[data-action], #refresh")) {
    node.disabled = busy || (!state.canManage && node.id !== "refresh");
  }
}

/** Run a mutation; show its `errors` (field + message) or re-fetch the page's data. */
async function mutate({ button, pendingText, failureTitle, query, variables, field, success }) {
  if (state.busy) return;
  clearNotices();
  setBusy(true);
  const label = button.textContent;
  button.textContent = pendingText;
  try {
    const data = await gql(query, variables);
    const payload = data[field];
    if (payload.errors.length) {
      showProblem(
        failureTitle,
        payload.errors.map(({ field: path, message, code }) => ({ field: path, message, code })),
      );
      return;
    }
    if (await load()) flash(success(payload.campaign));
  } catch (error) {
    handleFailure(error, failureTitle);
  } finally {
    button.textContent = label;
    setBusy(false);
  }
}

function createFromTemplate(template, name, button) {
  return mutate({
    button,
    pendingText: "Creating…",
    failureTitle: `The campaign could not be created from “${template.name}”.`,
    query: CREATE_MUTATION,
    variables: { templateKey: template.key, name: name || null },
    field: "campaignCreateFromTemplate",
    success: (campaign) =>
      `“${campaign.name}” was created as a draft. Publish it to start taking contacts.`,
  });
}

function publish(campaign, button) {
  return mutate({
    button,
    pendingText: "Publishing…",
    failureTitle: `“${campaign.name}” could not be published.`,
    query: PUBLISH_MUTATION,
    variables: { id: campaign.id },
    field: "campaignPublish",
    success: (published) =>
      `“${published.name}” is published (v${published.publishedVersion.number}) ` +
      "and takes new contacts.",
  });
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

function acceptToken(token) {
  const first = state.token === null;
  state.token = token;
  state.canManage = tokenCanManage(token);
  if (first) {
    clearNotices();
    load({ initial: true });
  } else if (state.data) {
    render(state.data);
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
  state.data = null;
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
  clearNotices();
  await load({ initial: true });
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

// --- start ---------------------------------------------------------------------------------------

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

if (inDashboard) startDashboard();
else startEmbedded();
