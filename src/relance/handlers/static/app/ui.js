// Page-wide feedback: the notices, the busy state, mutations, failures and the confirm dialog.

import { ApiError, gql } from "./api.js";
import { state } from "./context.js";
import { $, h } from "./dom.js";

// --- notices ------------------------------------------------------------------------------------

export function clearNotices() {
  $("problem").hidden = true;
  $("flash").hidden = true;
}

/**
 * Show a problem: a title and lines of {field, message, code}. `locate(field)` may return a
 * function that shows the field (in an editor): the field is then a button calling it.
 */
export function showProblem(title, lines = [], { locate } = {}) {
  $("flash").hidden = true;
  $("problem-title").textContent = title;
  const list = $("problem-list");
  list.replaceChildren(
    ...lines.map(({ field, message, code }) => {
      const show = field && locate ? locate(field) : null;
      let fieldNode = null;
      if (show) {
        fieldNode = h(
          "button",
          { cls: "link-button field-button", attrs: { type: "button", title: "Show in the editor" } },
          h("code", { cls: "field", text: field }),
        );
        fieldNode.addEventListener("click", show);
      } else if (field) {
        fieldNode = h("code", { cls: "field", text: field });
      }
      return h(
        "li",
        {},
        fieldNode,
        h("span", { text: message }),
        code ? h("span", { cls: "code", text: code }) : null,
      );
    }),
  );
  list.hidden = lines.length === 0;
  $("problem").hidden = false;
}

export function flash(message) {
  $("problem").hidden = true;
  $("flash").textContent = message;
  $("flash").hidden = false;
}

// --- failures -----------------------------------------------------------------------------------

let unauthenticated = () => {};

/** What to do when relance refuses the credential (set by the entry module). */
export function onUnauthenticated(handler) {
  unauthenticated = handler;
}

export function handleFailure(error, title) {
  if (!(error instanceof ApiError)) {
    console.error(error);
    showProblem(title, [{ message: String(error?.message ?? error) }]);
    return;
  }
  if (error.kind === "unauthenticated") {
    unauthenticated(error);
    return;
  }
  showProblem(
    error.kind === "forbidden" ? "You are not allowed to do this." : title,
    error.lines.length ? error.lines : [{ message: error.message }],
  );
}

// --- busy and read-only -------------------------------------------------------------------------

/** Mutation controls carry `data-action` (disabled while busy or read-only); other controls that
 * must wait for a running mutation carry `data-busy`. */
export function setBusy(busy) {
  state.busy = busy;
  applyPermissions();
}

export function applyPermissions(root = document) {
  for (const node of root.querySelectorAll("[data-action]")) {
    node.disabled = state.busy || !state.canManage;
  }
  for (const node of root.querySelectorAll("[data-busy]")) node.disabled = state.busy;
  for (const node of root.querySelectorAll("[data-manage]")) {
    if (node.tagName === "TEXTAREA") node.readOnly = !state.canManage;
    else node.disabled = !state.canManage;
  }
}

/**
 * Run a mutation whose payload has `errors`. Returns the payload when it has none; otherwise
 * shows them (or hands them to `onErrors`) and returns null. Failures are shown too.
 */
export async function runMutation({
  button,
  pendingText,
  failureTitle,
  query,
  variables,
  field,
  onErrors,
  locate,
}) {
  if (state.busy) return null;
  clearNotices();
  setBusy(true);
  const label = button ? button.textContent : "";
  if (button && pendingText) button.textContent = pendingText;
  try {
    const data = await gql(query, variables);
    const payload = data[field];
    if (payload.errors.length) {
      if (onErrors) onErrors(payload.errors);
      else showProblem(failureTitle, payload.errors, { locate });
      return null;
    }
    return payload;
  } catch (error) {
    handleFailure(error, failureTitle);
    return null;
  } finally {
    if (button) button.textContent = label;
    setBusy(false);
  }
}

// --- the confirm dialog ---------------------------------------------------------------------------

/**
 * Ask before a consequential action, in the page's one modal `<dialog>`.
 * choices: [{value, title, text}] shown as radio buttons (the first is preselected); resolves to
 * the chosen value, `true` when there are no choices, or null when cancelled.
 */
export function ask({ title, text, legend, choices = [], note, confirm }) {
  const dialog = $("confirm");
  const opener = document.activeElement;
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text || "";
  $("confirm-text").hidden = !text;
  $("confirm-legend").textContent = legend || "";
  const options = choices.map((choice, index) => {
    const input = h("input", {
      attrs: { type: "radio", name: "confirm-choice", value: choice.value, id: `confirm-${index}` },
    });
    input.checked = index === 0;
    return h(
      "label",
      { cls: "choice", attrs: { for: `confirm-${index}` } },
      input,
      h(
        "span",
        {},
        h("strong", { cls: "choice-title", text: choice.title }),
        h("span", { cls: "choice-text", text: choice.text }),
      ),
    );
  });
  $("confirm-options").replaceChildren(...options);
  $("confirm-choices").hidden = choices.length === 0;
  $("confirm-note").textContent = note || "";
  $("confirm-note").hidden = !note;
  $("confirm-ok").textContent = confirm;

  return new Promise((resolve) => {
    const finish = (value) => {
      $("confirm-ok").removeEventListener("click", onOk);
      $("confirm-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      if (opener && typeof opener.focus === "function" && opener.isConnected) opener.focus();
      resolve(value);
    };
    const onOk = () => {
      const checked = dialog.querySelector("input[name=confirm-choice]:checked");
      finish(choices.length ? (checked ? checked.value : null) : true);
    };
    const onCancel = () => finish(null);
    const onClose = () => finish(null); // Escape
    $("confirm-ok").addEventListener("click", onOk);
    $("confirm-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    (options.length ? options[0].querySelector("input") : $("confirm-ok")).focus();
  });
}
