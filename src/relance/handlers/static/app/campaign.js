// One campaign: its status and counts, versions (publish, stop, revert, export), the draft
// editor with its steps overview, the dry run, and its enrollments with their traces.

import {
  CAMPAIGN_QUERY,
  DRY_RUN,
  ENROLLMENTS_QUERY,
  EXPORT_QUERY,
  PUBLISH,
  REVERT,
  STOP,
  UPDATE_DRAFT,
  VALIDATE_DRAFT,
  gql,
} from "./api.js";
import { state } from "./context.js";
import { $, button, dash, download, formatDate, formatNumber, h, timeEl } from "./dom.js";
import { TRACE_LIMIT, enrollmentTable } from "./enrollments.js";
import { formatJson, locate, parseText, selectPath, selectRange } from "./json-text.js";
import { renderOutline } from "./outline.js";
import {
  applyPermissions,
  ask,
  clearNotices,
  flash,
  handleFailure,
  runMutation,
  setBusy,
  showProblem,
} from "./ui.js";

export const CAMPAIGN_STATUS = { ACTIVE: "Active", DRAFT: "Draft", STOPPED: "Stopped" };
const VERSION_STATUS = {
  DRAFT: "Draft",
  PUBLISHED: "Published",
  DRAINING: "Draining",
  RETIRED: "Retired",
};
const OUTCOMES = {
  NOT_ENTERED: "Would not enter",
  COMPLETED: "Completes",
  EXITED: "Exits",
  ERROR: "Stops on an error",
  UNFINISHED: "Does not finish",
};
const PAGE_SIZE = 20;

const view = {
  id: null,
  seq: 0,
  campaign: null,
  history: [],
  /** The editor's saved text and name (what the server has), and edits kept per campaign. */
  baseline: { text: "", name: "" },
  stash: new Map(),
  problems: [],
  enrollments: { items: [], pageInfo: null, seq: 0 },
};

export function campaignHref(id) {
  return `#campaign/${encodeURIComponent(id)}`;
}

export function statusChip(status, labels = CAMPAIGN_STATUS, prefix = "status") {
  const cls = `chip ${prefix}-${String(status).toLowerCase()}`;
  return h("span", { cls, text: labels[status] || status });
}

function slug(name) {
  return (
    String(name)
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "campaign"
  );
}

const editorDirty = () =>
  $("editor-text").value !== view.baseline.text || $("editor-name").value !== view.baseline.name;

/** Whether the open campaign's editor holds changes that are not saved. */
export function hasUnsavedChanges() {
  return view.id !== null && view.campaign !== null && editorDirty();
}

// --- publish and stop (also used by the list) ----------------------------------------------------

/** Contacts may be inside an older version: publishing must say what becomes of them. */
function holdsContacts(campaign) {
  return (campaign.versions || []).some((v) => v.status === "PUBLISHED" || v.status === "DRAINING");
}

/**
 * Publish `campaign`'s draft, asking Drain or Stop when an older version may hold contacts.
 * Resolves to the published campaign, or null (cancelled, refused, failed).
 */
export async function publishDraft(campaign, trigger, { locate, unsaved = false } = {}) {
  const draft = campaign.draftVersion;
  let mode = "DRAIN";
  if (holdsContacts(campaign)) {
    const old = campaign.publishedVersion
      ? `version ${campaign.publishedVersion.number}`
      : "the draining versions";
    mode = await ask({
      title: `Publish version ${draft.number} of “${campaign.name}”?`,
      text: `Version ${draft.number} takes every new contact from now on.`,
      legend: `What happens to the contacts already inside ${old}?`,
      choices: [
        {
          value: "DRAIN",
          title: "Drain",
          text: `They finish ${old} as it is; only new contacts enter version ${draft.number}.`,
        },
        {
          value: "STOP",
          title: "Stop",
          text: `They leave ${old} now, and their messages not yet sent are cancelled.`,
        },
      ],
      note: unsaved
        ? "The editor has unsaved changes: only the saved draft is published."
        : null,
      confirm: `Publish version ${draft.number}`,
    });
    if (!mode) return null;
  }
  const payload = await runMutation({
    button: trigger,
    pendingText: "Publishing…",
    failureTitle: `“${campaign.name}” could not be published.`,
    query: PUBLISH,
    variables: { id: campaign.id, mode },
    field: "campaignPublish",
    locate,
  });
  return payload ? { ...payload.campaign, mode } : null;
}

async function stopCampaign(trigger) {
  const campaign = view.campaign;
  const active = campaign.status === "ACTIVE";
  let mode;
  if (active) {
    mode = await ask({
      title: `Stop “${campaign.name}”?`,
      text: "It takes no new contacts. Its draft is kept, and publishing starts it again.",
      legend: "What happens to the contacts inside?",
      choices: [
        {
          value: "DRAIN",
          title: "Drain",
          text: "They finish their run as planned; nobody new enters.",
        },
        {
          value: "STOP",
          title: "Stop",
          text: "They leave now, and their messages not yet sent are cancelled.",
        },
      ],
      confirm: "Stop campaign",
    });
  } else {
    const ok = await ask({
      title: `Remove the contacts still inside “${campaign.name}”?`,
      text: "They leave the draining version now, and their messages not yet sent are cancelled.",
      confirm: "Remove them",
    });
    mode = ok ? "STOP" : null;
  }
  if (!mode) return;
  const payload = await runMutation({
    button: trigger,
    pendingText: "Stopping…",
    failureTitle: `“${campaign.name}” could not be stopped.`,
    query: STOP,
    variables: { id: campaign.id, mode },
    field: "campaignStop",
  });
  if (!payload) return;
  await reload();
  await loadEnrollments();
  flash(
    mode === "DRAIN"
      ? `“${campaign.name}” is stopped: no new contacts; those inside finish their run.`
      : `“${campaign.name}” is stopped and everyone inside has left.`,
  );
}

async function revertTo(number, trigger) {
  const campaign = view.campaign;
  const draft = campaign.draftVersion;
  const latest = Math.max(0, ...campaign.versions.map((v) => v.number));
  const ok = await ask({
    title: `Revert to version ${number}?`,
    text: draft
      ? `Draft v${draft.number} becomes a copy of version ${number}. Publish it to go back to version ${number}.`
      : `A new draft, v${latest + 1}, is made from version ${number}. Publish it to go back to version ${number}.`,
    note: editorDirty() ? "The unsaved changes in the editor will be lost." : null,
    confirm: `Revert to version ${number}`,
  });
  if (!ok) return;
  const payload = await runMutation({
    button: trigger,
    pendingText: "Reverting…",
    failureTitle: `“${campaign.name}” could not be reverted to version ${number}.`,
    query: REVERT,
    variables: { id: campaign.id, version: number },
    field: "campaignRevert",
  });
  if (!payload) return;
  view.stash.delete(campaign.id);
  await reload({ replaceEditor: true });
  flash(
    `Draft v${payload.campaign.draftVersion.number} is now a copy of version ${number}. ` +
      "Publish it to go back to it.",
  );
}

async function exportJson(number, trigger) {
  const campaign = view.campaign;
  if (state.busy) return;
  clearNotices();
  setBusy(true);
  try {
    const data = await gql(EXPORT_QUERY, { id: campaign.id, version: number });
    if (data.campaignExport === null) {
      showProblem("There is nothing to export.", [{ message: "No such version." }]);
      return;
    }
    const which = number ?? campaign.draftVersion?.number ?? campaign.publishedVersion?.number;
    const filename = `${slug(campaign.name)}-v${which}.json`;
    download(filename, `${JSON.stringify(data.campaignExport, null, 2)}\n`);
    flash(`Version ${which} of “${campaign.name}” was exported as ${filename}.`);
  } catch (error) {
    handleFailure(error, `“${campaign.name}” could not be exported.`);
  } finally {
    setBusy(false);
    trigger?.focus();
  }
}

// --- loading ----------------------------------------------------------------------------------

/** Show campaign `id`: load it (and its enrollments); `focus` moves focus to its heading. */
export async function openCampaign(id, { focus = true } = {}) {
  const again = view.id === id;
  if (!again) {
    stashEdits();
    view.id = id;
    view.campaign = null;
    view.problems = [];
    view.enrollments = { items: [], pageInfo: null, seq: view.enrollments.seq };
    $("campaign-name").textContent = "Loading…";
    $("campaign-meta").textContent = "";
    $("campaign-actions").replaceChildren();
    $("campaign-stats").replaceChildren();
    $("version-rows").replaceChildren();
    $("editor-result").replaceChildren();
    $("dryrun-result").replaceChildren();
    $("enrollment-list").replaceChildren();
    $("enrollments-status").textContent = "";
    $("enrollment-status").value = "";
    $("dryrun-email").value = "";
    $("dryrun-event").value = "";
  }
  if (focus) $("campaign-name").focus();
  // the same campaign again (Back, a new locale) keeps what the editor holds
  const loaded = await reload(again ? {} : { replaceEditor: true, restore: true });
  if (loaded) await loadEnrollments();
  return loaded;
}

/** Keep the open campaign's unsaved editor text when the merchant goes elsewhere. */
export function stashEdits() {
  if (hasUnsavedChanges()) {
    view.stash.set(view.id, { text: $("editor-text").value, name: $("editor-name").value });
  }
}

async function reload({ replaceEditor = false, restore = false } = {}) {
  const seq = ++view.seq;
  const id = view.id;
  $("campaign-card").setAttribute("aria-busy", "true");
  try {
    const data = await gql(CAMPAIGN_QUERY, { id });
    if (seq !== view.seq || id !== view.id) return false;
    if (!data.campaign) {
      view.campaign = null;
      $("campaign-name").textContent = "Campaign not found";
      showProblem("This campaign does not exist in this store.", [
        { message: "It may have been made in another store. Go back to all campaigns." },
      ]);
      return false;
    }
    view.campaign = data.campaign;
    view.history = data.campaignHistory || [];
    renderHead();
    renderVersions();
    renderEditor(data.campaignExport, { replace: replaceEditor || !editorDirty(), restore });
    renderDryRunVersions();
    applyPermissions($("campaign-view"));
    return true;
  } catch (error) {
    if (seq === view.seq) handleFailure(error, "The campaign could not be loaded.");
    return false;
  } finally {
    if (seq === view.seq) $("campaign-card").removeAttribute("aria-busy");
  }
}

// --- header and versions ----------------------------------------------------------------------

function renderHead() {
  const campaign = view.campaign;
  const name = $("campaign-name");
  name.replaceChildren(h("span", { text: campaign.name }), " ", statusChip(campaign.status));
  const meta = [
    campaign.trigger ? `Trigger: ${campaign.trigger.summary}` : "No trigger",
    campaign.category ? `Category: ${campaign.category}` : null,
    campaign.templateKey ? `From the template ${campaign.templateKey}` : null,
    `Created ${formatDate(campaign.createdAt)}`,
  ];
  $("campaign-meta").textContent = meta.filter(Boolean).join(" · ");
  document.title = `${campaign.name} · relance`;

  const stats = campaign.stats;
  $("campaign-stats").replaceChildren(
    ...[
      ["Enrolled", stats.enrolled],
      ["In progress", stats.active],
      ["Completed", stats.completed],
      ["Exited", stats.exited],
      ["Messages sent", stats.messagesSent],
    ].map(([term, value]) =>
      h("div", { cls: "stat" }, h("dt", { text: term }), h("dd", { text: formatNumber(value) })),
    ),
  );

  const actions = [];
  const draft = campaign.draftVersion;
  if (draft) {
    const publish = button(`Publish draft v${draft.number}`, async () => {
      const done = await publishDraft(campaign, publish, {
        locate: editorLocator,
        unsaved: editorDirty(),
      });
      if (!done) return;
      await reload({ replaceEditor: !editorDirty() });
      await loadEnrollments();
      flash(
        `Version ${done.publishedVersion.number} of “${done.name}” is published and takes new contacts.`,
      );
    }, { cls: "button primary small", attrs: { "data-action": "publish" } });
    actions.push(publish);
  }
  const draining = campaign.versions.some((v) => v.status === "DRAINING");
  if (campaign.status === "ACTIVE") {
    const stop = button("Stop campaign", () => stopCampaign(stop), { attrs: { "data-action": "stop" } });
    actions.push(stop);
  } else if (campaign.status === "STOPPED" && draining) {
    const stop = button("Remove contacts still inside", () => stopCampaign(stop), {
      attrs: { "data-action": "stop" },
    });
    actions.push(stop);
  }
  const exportButton = button("Export JSON", () => exportJson(null, exportButton), {
    attrs: { "data-busy": "" },
  });
  actions.push(exportButton);
  const refresh = button("Refresh", async () => {
    clearNotices();
    if (await reload()) await loadEnrollments();
  }, { attrs: { "data-busy": "" } });
  actions.push(refresh);
  $("campaign-actions").replaceChildren(...actions);
}

function renderVersions() {
  const campaign = view.campaign;
  const history = new Map(view.history.map((entry) => [entry.version.number, entry]));
  const count = (entry, key) =>
    entry ? h("td", { cls: "num", text: formatNumber(entry[key]) }) : h("td", { cls: "num" }, dash());
  const rows = campaign.versions.map((version) => {
    const entry = history.get(version.number);
    const buttons = h("div", { cls: "row-actions" });
    const exportButton = button("Export", () => exportJson(version.number, exportButton), {
      attrs: { "data-busy": "", "aria-label": `Export version ${version.number}` },
    });
    buttons.append(exportButton);
    if (version.status !== "DRAFT") {
      const revert = button(`Revert to v${version.number}`, () => revertTo(version.number, revert), {
        attrs: { "data-action": "revert", "aria-label": `Revert to version ${version.number}` },
      });
      buttons.append(revert);
    }
    const actions = h("td", { cls: "actions-col" }, buttons);
    return h(
      "tr",
      { attrs: { "data-version": String(version.number) } },
      h("th", { attrs: { scope: "row" }, text: `v${version.number}` }),
      h("td", {}, statusChip(version.status, VERSION_STATUS, "version")),
      h("td", { cls: "nowrap" }, timeEl(version.publishedAt, { withTime: false })),
      h("td", { cls: "nowrap" }, timeEl(version.unpublishedAt, { withTime: false })),
      h("td", { cls: "nowrap" }, timeEl(version.retiredAt, { withTime: false })),
      count(entry, "entered"),
      count(entry, "active"),
      count(entry, "completed"),
      count(entry, "exited"),
      actions,
    );
  });
  $("version-rows").replaceChildren(...rows);
}

// --- the draft editor ---------------------------------------------------------------------------

/** Where a violation's path is, for showProblem and the lists: a function that shows it. */
function editorLocator(field) {
  const path = String(field).replace(/^definition\./, "");
  if (field === "name") return () => $("editor-name").focus();
  if (!path || /^(id|mode|version)$/.test(path)) return null;
  return () => showPath(path);
}

function showPath(path) {
  selectPath($("editor-text"), path);
  const match = /^steps\.(\d+)/.exec(path);
  if (match) {
    const item = $("outline").querySelector(`[data-step-index="${match[1]}"]`);
    if (item) {
      for (const node of $("outline").querySelectorAll(".outline-step.is-selected")) {
        node.classList.remove("is-selected");
      }
      item.classList.add("is-selected");
    }
  }
}

function renderEditor(exported, { replace, restore }) {
  const campaign = view.campaign;
  const draft = campaign.draftVersion;
  const published = campaign.publishedVersion;
  const latest = Math.max(0, ...campaign.versions.map((v) => v.number));
  $("editor-source").textContent = draft
    ? `Editing draft v${draft.number}. Saving replaces it; publishing makes it the live version.`
    : published
      ? `There is no draft: this is the published version ${published.number}. Saving makes ` +
        `draft v${latest + 1} from it; version ${published.number} keeps running until you publish.`
      : "There is no version to edit.";
  const text = exported ? formatJson(exported) : "";
  view.baseline = { text, name: campaign.name };
  if (replace) {
    view.problems = [];
    $("editor-result").replaceChildren();
    $("editor-text").value = text;
    $("editor-name").value = campaign.name;
    const stashed = restore ? view.stash.get(campaign.id) : null;
    view.stash.delete(campaign.id);
    if (stashed && (stashed.text !== text || stashed.name !== campaign.name)) {
      $("editor-text").value = stashed.text;
      $("editor-name").value = stashed.name;
    }
  }
  updateEditorState();
  renderOutlineNow();
}

function updateEditorState() {
  $("editor-state").textContent = editorDirty() ? "Unsaved changes" : "";
}

let outlineTimer = null;
function scheduleOutline() {
  clearTimeout(outlineTimer);
  outlineTimer = setTimeout(renderOutlineNow, 250);
}

function renderOutlineNow() {
  clearTimeout(outlineTimer);
  const text = $("editor-text").value;
  if (!text.trim()) {
    $("outline").replaceChildren(h("p", { cls: "muted", text: "Nothing to show yet." }));
    return;
  }
  const parsed = parseText(text);
  if (parsed.error) {
    $("outline").replaceChildren(
      h("p", { cls: "outline-unknown", text: `The JSON is not valid (${parsed.error}).` }),
    );
    return;
  }
  $("outline").replaceChildren(
    renderOutline(parsed.value, { problems: view.problems, onProblem: showPath }),
  );
}

/** The list of problems under the editor (or the import form): each path shows itself. */
export function problemList(problems, locate) {
  return h(
    "ul",
    { cls: "problems" },
    problems.map(({ field, message, code }) => {
      const show = field ? locate(field) : null;
      let label = null;
      if (show) {
        label = h(
          "button",
          { cls: "link-button", attrs: { type: "button", title: "Show in the editor" } },
          h("code", { text: field }),
        );
        label.addEventListener("click", show);
      } else if (field) {
        label = h("code", { text: field });
      }
      return h(
        "li",
        {},
        label,
        h("span", { cls: "problem-message", text: message }),
        code ? h("span", { cls: "code", text: code }) : null,
      );
    }),
  );
}

/** Problems in the order of the document (those without a place in it last). */
function inDocumentOrder(problems) {
  let spans = null;
  try {
    spans = locate($("editor-text").value);
  } catch {
    return problems;
  }
  const position = (field) => {
    const parts = String(field || "").replace(/^definition\./, "").split(".");
    for (let length = parts.length; length > 0; length -= 1) {
      const span = spans.get(parts.slice(0, length).join("."));
      if (span) return span.start;
    }
    return Number.MAX_SAFE_INTEGER;
  };
  return problems
    .map((problem, index) => ({ problem, index, at: position(problem.field) }))
    .sort((a, b) => a.at - b.at || a.index - b.index)
    .map(({ problem }) => problem);
}

function showEditorResult(kind, title, unordered = []) {
  const problems = inDocumentOrder(unordered);
  view.problems = problems
    .filter((p) => p.field)
    .map((p) => ({ path: String(p.field).replace(/^definition\./, ""), message: p.message }));
  $("editor-result").replaceChildren(
    h(
      "div",
      { cls: `result ${kind}` },
      h("strong", { text: title }),
      problems.length ? problemList(problems, editorLocator) : null,
    ),
  );
  renderOutlineNow();
}

function checkSyntax() {
  const parsed = parseText($("editor-text").value);
  if (!parsed.error) return parsed;
  showEditorResult("error", "The definition is not valid JSON; nothing was checked.", [
    { field: null, message: parsed.error, code: "" },
  ]);
  if (parsed.offset !== null) selectRange($("editor-text"), parsed.offset, parsed.offset + 1);
  return null;
}

async function validateDraft() {
  const campaign = view.campaign;
  if (!checkSyntax()) return;
  if (editorDirty()) {
    showEditorResult(
      "info",
      "The JSON is well-formed. Publishing rules are checked on the saved draft: save your " +
        "changes to check them.",
    );
    return;
  }
  if (!campaign.draftVersion) {
    showEditorResult(
      "info",
      `There is no draft to validate: version ${campaign.publishedVersion?.number} is published ` +
        "as it is. Save to start a draft from it.",
    );
    return;
  }
  const payload = await runMutation({
    button: $("validate-draft"),
    pendingText: "Validating…",
    failureTitle: "The draft could not be validated.",
    query: VALIDATE_DRAFT,
    variables: { id: campaign.id },
    field: "campaignValidate",
    onErrors: (errors) => showEditorResult("error", "The draft could not be validated.", errors),
  });
  if (!payload) return;
  const number = campaign.draftVersion.number;
  if (payload.valid) showEditorResult("ok", `Draft v${number} can be published.`);
  else {
    const count = payload.violations.length;
    showEditorResult(
      "error",
      `Draft v${number} cannot be published yet: ${count} problem${count === 1 ? "" : "s"}.`,
      payload.violations,
    );
  }
}

async function saveDraft() {
  const campaign = view.campaign;
  const parsed = checkSyntax();
  if (!parsed) return;
  const name = $("editor-name").value.trim();
  const payload = await runMutation({
    button: $("save-draft"),
    pendingText: "Saving…",
    failureTitle: "The draft could not be saved.",
    query: UPDATE_DRAFT,
    variables: {
      id: campaign.id,
      definition: parsed.value,
      name: name && name !== campaign.name ? name : null,
    },
    field: "campaignUpdateDraft",
    onErrors: (errors) =>
      showEditorResult("error", "Nothing was saved: fix these problems first.", errors),
  });
  if (!payload) return;
  const number = payload.campaign.draftVersion.number;
  await reload({ replaceEditor: true });
  const count = payload.violations.length;
  if (count === 0) showEditorResult("ok", `Draft v${number} saved. It can be published.`);
  else {
    showEditorResult(
      "warn",
      `Draft v${number} saved, but publishing would refuse it: ${count} problem${count === 1 ? "" : "s"}.`,
      payload.violations,
    );
  }
}

// --- dry run ------------------------------------------------------------------------------------

function renderDryRunVersions() {
  const select = $("dryrun-version");
  const previous = select.value;
  const options = [h("option", { text: "The draft, else the published version", attrs: { value: "" } })];
  for (const version of view.campaign.versions) {
    const label = VERSION_STATUS[version.status] || version.status;
    options.push(
      h("option", { text: `v${version.number} (${label.toLowerCase()})`, attrs: { value: String(version.number) } }),
    );
  }
  select.replaceChildren(...options);
  select.value = [...select.options].some((o) => o.value === previous) ? previous : "";
}

async function dryRun() {
  const campaign = view.campaign;
  const email = $("dryrun-email").value.trim();
  const result = $("dryrun-result");
  if (!email) {
    $("dryrun-email").setAttribute("aria-invalid", "true");
    result.replaceChildren(h("p", { cls: "field-error", text: "Enter the email of a contact of this store." }));
    $("dryrun-email").focus();
    return;
  }
  $("dryrun-email").removeAttribute("aria-invalid");
  const version = $("dryrun-version").value;
  const payload = await runMutation({
    button: $("dryrun-button"),
    pendingText: "Trying…",
    failureTitle: "The dry run could not be made.",
    query: DRY_RUN,
    variables: {
      id: campaign.id,
      contactEmail: email,
      eventType: $("dryrun-event").value.trim() || null,
      version: version ? Number(version) : null,
    },
    field: "campaignDryRun",
    onErrors: (errors) =>
      result.replaceChildren(
        h(
          "div",
          { cls: "result error" },
          h("strong", { text: "The dry run could not be made." }),
          problemList(errors, (field) =>
            field === "contactEmail"
              ? () => $("dryrun-email").focus()
              : field === "eventType"
                ? () => $("dryrun-event").focus()
                : null,
          ),
        ),
      ),
  });
  if (!payload) return;
  const outcome = OUTCOMES[payload.outcome] || payload.outcome;
  const kind = payload.outcome === "COMPLETED" ? "ok" : payload.outcome === "ERROR" ? "error" : "info";
  result.replaceChildren(
    h(
      "div",
      { cls: `result ${kind} dryrun-outcome` },
      h("strong", { text: `${outcome}` }),
      h("span", {
        text:
          ` — version ${payload.versionNumber}` +
          (payload.reason ? `, ${payload.reason}` : "") +
          (payload.endedAt ? `, at ${timeEl(payload.endedAt).textContent}` : ""),
      }),
    ),
    payload.steps.length
      ? h(
          "ol",
          { cls: "path", attrs: { "aria-label": `Path of ${email}` } },
          payload.steps.map((step) =>
            h(
              "li",
              {},
              timeEl(step.at),
              h("code", { cls: "path-step", text: step.stepId }),
              h("span", { cls: `action action-${step.action}`, text: step.action }),
              step.detail ? h("span", { cls: "detail", text: step.detail }) : null,
            ),
          ),
        )
      : h("p", { cls: "muted", text: "No step would run." }),
  );
}

// --- enrollments --------------------------------------------------------------------------------

async function loadEnrollments({ more = false } = {}) {
  const id = view.id;
  const seq = ++view.enrollments.seq;
  const status = $("enrollment-status").value || null;
  const after = more ? view.enrollments.pageInfo?.endCursor : null;
  if (!more) $("enrollments-status").textContent = "Loading enrollments…";
  try {
    const data = await gql(ENROLLMENTS_QUERY, {
      id,
      status,
      first: PAGE_SIZE,
      after,
      traceLimit: TRACE_LIMIT,
    });
    if (seq !== view.enrollments.seq || id !== view.id || !data.campaign) return;
    const page = data.campaign.enrollments;
    const nodes = page.edges.map((edge) => edge.node);
    view.enrollments.items = more ? [...view.enrollments.items, ...nodes] : nodes;
    view.enrollments.pageInfo = page.pageInfo;
    renderEnrollments();
  } catch (error) {
    if (seq === view.enrollments.seq) handleFailure(error, "The enrollments could not be loaded.");
  }
}

function renderEnrollments() {
  const items = view.enrollments.items;
  const filter = $("enrollment-status").selectedOptions[0]?.textContent.toLowerCase();
  const list = $("enrollment-list");
  if (items.length === 0) {
    const text = $("enrollment-status").value
      ? `No enrollments (${filter}).`
      : "No enrollments yet: contacts enter when the trigger happens to them.";
    list.replaceChildren(h("p", { cls: "empty-inline muted", text }));
    $("enrollments-status").textContent = text;
  } else {
    list.replaceChildren(enrollmentTable(items));
    $("enrollments-status").textContent = `${items.length} enrollment${items.length === 1 ? "" : "s"} shown.`;
  }
  $("enrollments-foot").hidden = !view.enrollments.pageInfo?.hasNextPage;
}

// --- wiring (once) ------------------------------------------------------------------------------

export function initCampaignView() {
  $("editor-text").addEventListener("input", () => {
    updateEditorState();
    scheduleOutline();
  });
  $("editor-name").addEventListener("input", updateEditorState);
  $("editor-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveDraft();
  });
  $("validate-draft").addEventListener("click", validateDraft);
  $("reset-draft").addEventListener("click", () => {
    $("editor-text").value = view.baseline.text;
    $("editor-name").value = view.baseline.name;
    view.stash.delete(view.id);
    view.problems = [];
    $("editor-result").replaceChildren();
    updateEditorState();
    renderOutlineNow();
  });
  $("dryrun-form").addEventListener("submit", (event) => {
    event.preventDefault();
    dryRun();
  });
  $("enrollment-status").addEventListener("change", () => loadEnrollments());
  $("enrollments-more").addEventListener("click", () => loadEnrollments({ more: true }));
  window.addEventListener("beforeunload", (event) => {
    if (hasUnsavedChanges()) event.preventDefault();
  });
}
