// Contact lookup: an email → that contact's enrollments across campaigns, with their traces.

import { CONTACT_ENROLLMENTS_QUERY, gql } from "./api.js";
import { campaignHref } from "./campaign.js";
import { state } from "./context.js";
import { $, h } from "./dom.js";
import { ENROLLMENT_STATUS, TRACE_LIMIT, enrollmentTable } from "./enrollments.js";
import { clearNotices, handleFailure, setBusy } from "./ui.js";

const PAGE_SIZE = 20;
const lookup = { email: "", status: null, items: [], pageInfo: null, seq: 0 };

async function find({ more = false } = {}) {
  if (state.busy) return;
  const result = $("contact-result");
  if (!more) {
    const email = $("contact-email").value.trim();
    if (!email) {
      $("contact-email").setAttribute("aria-invalid", "true");
      result.replaceChildren(h("p", { cls: "field-error card-body", text: "Enter an email." }));
      $("contact-email").focus();
      return;
    }
    $("contact-email").removeAttribute("aria-invalid");
    lookup.email = email;
    lookup.status = $("contact-status").value || null;
    lookup.items = [];
    lookup.pageInfo = null;
  }
  const seq = ++lookup.seq;
  clearNotices();
  setBusy(true);
  const trigger = more ? $("contact-more") : $("contact-button");
  const label = trigger.textContent;
  trigger.textContent = "Looking up…";
  try {
    const data = await gql(CONTACT_ENROLLMENTS_QUERY, {
      email: lookup.email,
      status: lookup.status,
      first: PAGE_SIZE,
      after: more ? lookup.pageInfo?.endCursor : null,
      traceLimit: TRACE_LIMIT,
    });
    if (seq !== lookup.seq) return;
    const page = data.contactEnrollments;
    lookup.items = [...lookup.items, ...page.edges.map((edge) => edge.node)];
    lookup.pageInfo = page.pageInfo;
    render();
  } catch (error) {
    handleFailure(error, "The contact could not be looked up.");
  } finally {
    trigger.textContent = label;
    setBusy(false);
  }
}

function render() {
  const count = lookup.items.length;
  const which = lookup.status ? ` ${ENROLLMENT_STATUS[lookup.status].toLowerCase()}` : "";
  const summary =
    count === 0
      ? `No${which} campaign runs for ${lookup.email}: no campaign has enrolled this address ` +
        "in this store (or it is not a contact here)."
      : `${count}${which} campaign run${count === 1 ? "" : "s"} for ${lookup.email}, newest first.`;
  $("contact-result").replaceChildren(
    h("p", { cls: "card-body result-summary", text: summary }),
    count
      ? h("div", { cls: "table-scroll" }, enrollmentTable(lookup.items, { byCampaign: true, campaignHref }))
      : null,
  );
  $("contact-foot").hidden = !lookup.pageInfo?.hasNextPage;
}

export function initContactsView() {
  $("contact-form").addEventListener("submit", (event) => {
    event.preventDefault();
    find();
  });
  $("contact-more").addEventListener("click", () => find({ more: true }));
}

export function openContacts({ focus = true } = {}) {
  if (focus) $("contact-email").focus();
}
