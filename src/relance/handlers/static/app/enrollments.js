// Enrollments as a table (a campaign's, or a contact's across campaigns), each with its trace
// behind a disclosure button.

import { button, dash, h, timeEl, uid } from "./dom.js";

export const TRACE_LIMIT = 50;

export const ENROLLMENT_STATUS = {
  ACTIVE: "In progress",
  COMPLETED: "Completed",
  EXITED: "Exited",
};

const END_REASONS = {
  completed: "Reached the end",
  exit_step: "Exit step",
  exit_condition: "Exit condition met",
  entry_filter_failed: "No longer matches the entry filter",
  version_replaced: "Version replaced (stop)",
  campaign_stopped: "Campaign stopped",
  discount_failed: "Discount code could not be created",
  store_uninstalled: "Store uninstalled",
  contact_erased: "Contact erased",
};

/** A readable end reason, with its stable code. */
export function endReason(reason) {
  if (!reason) return null;
  let label = END_REASONS[reason];
  if (!label && reason.startsWith("exit_event:")) label = `Exit event ${reason.slice(11)}`;
  return h(
    "span",
    { cls: "end-reason" },
    label ? h("span", { text: label }) : null,
    h("code", { cls: "reason-code", text: reason }),
  );
}

function statusChip(status) {
  return h("span", {
    cls: `chip enrollment-${String(status).toLowerCase()}`,
    text: ENROLLMENT_STATUS[status] || status,
  });
}

/** A trace (newest first from the API) as a table in the order things happened. */
export function traceTable(trace, { caption } = {}) {
  const entries = [...trace].reverse();
  if (entries.length === 0) return h("p", { cls: "muted", text: "No decisions recorded." });
  return h(
    "table",
    { cls: "table trace" },
    caption ? h("caption", { cls: "visually-hidden", text: caption }) : null,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["At", "Step", "Action", "Detail"].map((name) => h("th", { text: name, attrs: { scope: "col" } })),
      ),
    ),
    h(
      "tbody",
      {},
      entries.map((entry) =>
        h(
          "tr",
          {},
          h("td", { cls: "nowrap" }, timeEl(entry.at)),
          h("td", {}, h("code", { text: entry.stepId })),
          h("td", {}, h("span", { cls: `action action-${entry.action}`, text: entry.action })),
          h("td", { cls: "detail", text: entry.detail || "" }),
        ),
      ),
    ),
  );
}

/**
 * The table of `enrollments`. `byCampaign`: a contact's view (campaign column, linked via
 * `campaignHref(id)`), else a campaign's (contact column).
 */
export function enrollmentTable(enrollments, { byCampaign = false, campaignHref } = {}) {
  const columns = [byCampaign ? "Campaign" : "Contact", "Status", "Step", "Wakes up", "Ended"];
  const rows = enrollments.flatMap((enrollment) => {
    const traceId = uid("trace");
    const subject = byCampaign ? enrollment.campaignName : enrollment.contactEmail;
    const who = byCampaign
      ? h("a", { cls: "primary", text: subject, attrs: { href: campaignHref(enrollment.campaignId) } })
      : h("span", { cls: "primary", text: subject });
    const entered = timeEl(enrollment.enteredAt);
    const collapsed = `Show trace (${enrollment.trace.length})`;
    const toggle = button(collapsed, () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide trace" : collapsed;
      traceRow.hidden = !open;
    }, { attrs: { "aria-expanded": "false", "aria-controls": traceId } });
    const traceRow = h(
      "tr",
      { cls: "trace-row", attrs: { id: traceId, hidden: "" } },
      h(
        "td",
        { attrs: { colspan: String(columns.length + 1) } },
        traceTable(enrollment.trace, {
          caption: `Trace of ${subject}, version ${enrollment.versionNumber}`,
        }),
        enrollment.trace.length >= TRACE_LIMIT
          ? h("p", { cls: "muted small", text: `Only the latest ${TRACE_LIMIT} decisions are shown.` })
          : null,
      ),
    );
    const row = h(
      "tr",
      { cls: "enrollment-row", attrs: { "data-enrollment-id": enrollment.id } },
      h(
        "td",
        { cls: "name who" },
        who,
        h(
          "span",
          { cls: "secondary" },
          h("span", { cls: "version", text: `v${enrollment.versionNumber}` }),
          " · entered ",
          entered,
        ),
      ),
      h("td", { cls: "status" }, statusChip(enrollment.status)),
      h("td", { cls: "step" }, enrollment.stepId ? h("code", { text: enrollment.stepId }) : dash()),
      h("td", { cls: "wake nowrap" }, enrollment.status === "ACTIVE" ? timeEl(enrollment.wakeAt) : dash()),
      h(
        "td",
        { cls: "ended" },
        enrollment.endedAt ? h("span", { cls: "nowrap" }, timeEl(enrollment.endedAt)) : null,
        endReason(enrollment.endReason),
      ),
      h("td", { cls: "actions-col" }, toggle),
    );
    return [row, traceRow];
  });
  return h(
    "table",
    { cls: "table dense enrollments" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((name) => h("th", { text: name, attrs: { scope: "col" } })),
        h(
          "th",
          { cls: "actions-col", attrs: { scope: "col" } },
          h("span", { cls: "visually-hidden", text: "Trace" }),
        ),
      ),
    ),
    h("tbody", {}, rows),
  );
}
