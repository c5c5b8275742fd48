// The steps overview: a campaign definition (docs/campaign-format.md) as a readable outline, so
// a merchant sees the graph without reading JSON. Steps come in path order from the entry step
// (each once), then those no path reaches; every link names its target and jumps to it.
//
// It reads whatever the editor holds, so it never trusts the shape: anything unexpected is shown
// as it is rather than breaking the outline.

import { formatDuration, h, uid } from "./dom.js";

const STEP_KINDS = {
  send_email: "Email",
  send_sms: "SMS",
  send_push: "Push",
  call_webhook: "Webhook",
  delay: "Delay",
  wait_until: "Wait until",
  split: "Split",
  random_split: "Random split",
  update_contact: "Update contact",
  create_discount: "Discount code",
  exit: "Exit",
};

const OPS = {
  eq: "=",
  ne: "≠",
  lt: "<",
  lte: "≤",
  gt: ">",
  gte: "≥",
  in: "is one of",
  not_in: "is none of",
  contains: "contains",
  starts_with: "starts with",
  exists: "is set",
  not_exists: "is not set",
  within_last: "within the last",
  older_than: "older than",
};

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const text = (value) => (typeof value === "string" ? value : JSON.stringify(value));
/** "09:00:00" → "09:00" (times are stored with seconds). */
const hhmm = (value) => String(value ?? "").replace(/^(\d{2}:\d{2}):00$/, "$1");
const capital = (value) => value.charAt(0).toUpperCase() + value.slice(1);

function valueText(op, value) {
  if (op === "exists" || op === "not_exists") return "";
  if (op === "within_last" || op === "older_than") return ` ${formatDuration(value)}`;
  if (Array.isArray(value)) return ` ${value.map(text).join(", ")}`;
  return ` ${text(value)}`;
}

/** One line for a condition: `gender = female`, `orders count ≥ 1 and not (tags has any vip)`. */
export function describeCondition(condition, depth = 0) {
  if (!isObject(condition)) return text(condition);
  if (depth > 8) return "…";
  const op = OPS[condition.op] || condition.op;
  const compare = (subject) => `${subject} ${op}${valueText(condition.op, condition.value)}`;
  const nested = (item) => {
    const line = describeCondition(item, depth + 1);
    return isObject(item) && (item.type === "all" || item.type === "any") ? `(${line})` : line;
  };
  switch (condition.type) {
    case "all":
    case "any": {
      const items = Array.isArray(condition.conditions) ? condition.conditions : [];
      if (items.length === 0) return condition.type === "all" ? "always" : "never";
      return items.map(nested).join(condition.type === "all" ? " and " : " or ");
    }
    case "not":
      return `not ${nested(condition.condition)}`;
    case "contact_field":
      return compare(String(condition.field).replace(/_/g, " "));
    case "custom_field":
      return compare(`custom field ${condition.key}`);
    case "order_stat":
      return compare(String(condition.stat).replace(/_/g, " "));
    case "event_property":
      return compare(`event ${condition.path}`);
    case "tags": {
      const tags = Array.isArray(condition.tags) ? condition.tags.join(", ") : text(condition.tags);
      const verb = { has_any: "any of", has_all: "all of", has_none: "none of" }[condition.op];
      return `tags: ${verb || condition.op} ${tags}`;
    }
    case "list_membership":
      return `${condition.op === "not_in" ? "not in" : "in"} list ${condition.list_id}`;
    case "consent":
      return `${condition.channel} consent ${op} ${condition.status}`;
    case "purchased": {
      const ids = [...(condition.products || []), ...(condition.variants || [])].join(", ");
      const window = condition.within_seconds
        ? ` in the last ${formatDuration(condition.within_seconds)}`
        : "";
      return `bought ${ids}${window}`;
    }
    case "message_count": {
      const category = condition.category ? ` of category ${condition.category}` : "";
      const window = condition.within_seconds
        ? ` in the last ${formatDuration(condition.within_seconds)}`
        : "";
      return `${condition.channel} messages${category}${window} ${op} ${condition.value}`;
    }
    default:
      return text(condition);
  }
}

/** One line for a trigger. */
export function describeTrigger(trigger) {
  if (!isObject(trigger)) return "no trigger";
  switch (trigger.type) {
    case "event": {
      const events = trigger.events || (trigger.event ? [trigger.event] : []);
      const where = trigger.where ? ` when ${describeCondition(trigger.where)}` : "";
      return `${events.join(" or ")}${where}`;
    }
    case "list_entered":
      return `enters list ${trigger.list_id}`;
    case "list_exited":
      return `leaves list ${trigger.list_id}`;
    case "date": {
      const days = Number(trigger.offset_days || 0);
      const offset =
        days === 0 ? "on" : `${Math.abs(days)} day${Math.abs(days) === 1 ? "" : "s"} ${days < 0 ? "before" : "after"}`;
      return `${offset} ${trigger.field}${trigger.yearly ? " every year" : ""} at ${hhmm(trigger.at || "09:00")}`;
    }
    default:
      return text(trigger);
  }
}

function weekdays(days) {
  if (!Array.isArray(days) || days.length === 7) return "";
  const indexes = days.map((day) => WEEKDAYS.indexOf(day)).sort((a, b) => a - b);
  const consecutive = indexes.every((day, i) => i === 0 || day === indexes[i - 1] + 1);
  const name = (i) => capital(WEEKDAYS[i] || "?");
  if (consecutive && indexes.length > 2) {
    return ` on ${name(indexes[0])}–${name(indexes[indexes.length - 1])}`;
  }
  return ` on ${indexes.map(name).join(", ")}`;
}

function localised(value, language) {
  if (!isObject(value)) return "";
  return String(value[language] ?? Object.values(value)[0] ?? "");
}

function describeAction(action) {
  if (!isObject(action)) return text(action);
  switch (action.op) {
    case "set_field":
      return action.value === null || action.value === undefined || action.value === ""
        ? `clear ${action.field}`
        : `set ${action.field} to ${action.value}`;
    case "set_custom_field":
      return action.value === null || action.value === undefined
        ? `remove custom field ${action.key}`
        : `set custom field ${action.key} to ${text(action.value)}`;
    case "copy_event_property":
      return `copy event ${action.path} into custom field ${action.key}`;
    case "add_tag":
      return `add tag ${action.tag}`;
    case "remove_tag":
      return `remove tag ${action.tag}`;
    case "add_to_list":
      return `add to list ${action.list_id}`;
    case "remove_from_list":
      return `remove from list ${action.list_id}`;
    case "unsubscribe":
      return `unsubscribe from ${action.channel}`;
    default:
      return text(action);
  }
}

/** What a step does, in one line. */
export function describeStep(step, definition = {}) {
  const language = definition.default_language || "en";
  const marketing = (s) =>
    `${s.transactional ? "transactional" : "marketing"}${s.category ? `, category ${s.category}` : ""}`;
  switch (step.type) {
    case "send_email":
      return `Send the email design “${step.design}” (${marketing(step)})`;
    case "send_sms":
      return `Send the SMS “${localised(step.text, language)}” (${marketing(step)})`;
    case "send_push":
      return `Send the notification “${localised(step.title, language)}” (${marketing(step)})`;
    case "call_webhook":
      return `Call ${step.method || "POST"} ${step.url}`;
    case "delay":
      return `Wait ${formatDuration(step.seconds)}`;
    case "wait_until": {
      const days = weekdays(step.weekdays);
      if (step.at) return `Wait until ${hhmm(step.at)}${days}, contact's time`;
      if (step.window_start || step.window_end) {
        const window = `${hhmm(step.window_start)}–${hhmm(step.window_end)}`;
        return `Wait for the window ${window}${days}, contact's time`;
      }
      return `Wait for an allowed day${days}`;
    }
    case "split":
      return "Take the first branch whose condition holds";
    case "random_split":
      return "Send each contact down one branch at random (always the same for a contact)";
    case "update_contact":
      return capital(
        (Array.isArray(step.actions) ? step.actions : []).map(describeAction).join(", ") ||
          "change nothing",
      );
    case "create_discount": {
      const kind = step.kind || "percentage";
      const value = step.value ?? "10";
      const what =
        kind === "percentage"
          ? `a ${value} % code`
          : kind === "fixed"
            ? `a code worth ${value}`
            : "a free-shipping code";
      const minimum = step.minimum_order ? `, from ${step.minimum_order}` : "";
      const prefix = step.prefix ? `, prefix ${step.prefix}` : "";
      return `Create ${what}, valid ${step.valid_days ?? 30} days${minimum}${prefix}`;
    }
    case "exit":
      return "End the run here (exited)";
    default:
      return `Unknown step type ${text(step.type)}`;
  }
}

/** The links of a step: [{label, target, path}] (`target` null: the run ends there). */
export function stepLinks(step, index) {
  const at = (field) => `steps.${index}.${field}`;
  if (step.type === "split") {
    const branches = Array.isArray(step.branches) ? step.branches : [];
    return [
      ...branches.map((branch, i) => ({
        label: `${branch?.label ?? `Branch ${i + 1}`}: ${describeCondition(branch?.condition)}`,
        target: branch?.next ?? null,
        path: `steps.${index}.branches.${i}.next`,
      })),
      { label: "Otherwise", target: step.default_next ?? null, path: at("default_next") },
    ];
  }
  if (step.type === "random_split") {
    const branches = Array.isArray(step.branches) ? step.branches : [];
    const total = branches.reduce((sum, branch) => sum + (Number(branch?.weight) || 0), 0);
    return branches.map((branch, i) => {
      const share = total ? Math.round((1000 * (Number(branch?.weight) || 0)) / total) / 10 : 0;
      return {
        label: `${branch?.label ?? `Branch ${i + 1}`} (${share} %)`,
        target: branch?.next ?? null,
        path: `steps.${index}.branches.${i}.next`,
      };
    });
  }
  if (step.type === "exit") return [];
  return [{ label: null, target: step.next ?? null, path: at("next") }];
}

/** Steps in path order from the entry step, then the unreachable ones: [{step, index}] x2. */
function order(steps, entry) {
  const byId = new Map();
  steps.forEach((step, index) => {
    if (isObject(step) && !byId.has(step.id)) byId.set(step.id, index);
  });
  const seen = new Set();
  const reached = [];
  const visit = (id) => {
    const index = byId.get(id);
    if (index === undefined || seen.has(index)) return;
    seen.add(index);
    reached.push(index);
    for (const link of stepLinks(steps[index], index)) if (link.target) visit(link.target);
  };
  visit(entry);
  const rest = steps.map((_, index) => index).filter((index) => !seen.has(index));
  return { reached, rest, byId };
}

/** Problems (violations) whose path is inside `prefix` (`steps.2` matches `steps.2.next`). */
function problemsAt(problems, prefix) {
  return problems.filter((p) => p.path === prefix || String(p.path).startsWith(`${prefix}.`));
}

/**
 * The outline of `definition` as an element.
 * problems: [{path, message}] (paths in the definition); onProblem(path) shows one in the editor.
 */
export function renderOutline(definition, { problems = [], onProblem } = {}) {
  if (!isObject(definition)) {
    return h("p", { cls: "muted", text: "The definition is not a JSON object." });
  }
  const steps = Array.isArray(definition.steps) ? definition.steps : [];
  const { reached, rest, byId } = order(steps, definition.entry_step);
  const ids = new Map(steps.map((_, index) => [index, uid("outline-step")]));

  const problemList = (items) =>
    items.length
      ? h(
          "ul",
          { cls: "outline-problems" },
          items.map((problem) =>
            h(
              "li",
              {},
              onProblem
                ? h(
                    "button",
                    {
                      cls: "link-button",
                      text: problem.path || "(document)",
                      attrs: { type: "button", title: "Show in the editor" },
                    },
                  )
                : h("code", { text: problem.path }),
              h("span", { text: ` ${problem.message}` }),
            ),
          ),
        )
      : null;

  // Buttons in problem lists call onProblem with their path.
  const wire = (list, items) => {
    if (!list || !onProblem) return list;
    list.querySelectorAll("button").forEach((node, i) => {
      node.addEventListener("click", () => onProblem(items[i].path));
    });
    return list;
  };

  const jumpTo = (target) => {
    const index = byId.get(target);
    if (index === undefined) return null;
    const node = document.getElementById(ids.get(index));
    if (node) {
      node.focus();
      node.scrollIntoView({ block: "nearest" });
    }
    return node;
  };

  const link = ({ label, target }) => {
    const known = target !== null && byId.has(target);
    const to = target === null
      ? h("span", { cls: "outline-end", text: "end" })
      : known
        ? (() => {
            const node = h("button", {
              cls: "link-button",
              text: target,
              attrs: { type: "button", title: `Go to step ${target}` },
            });
            node.addEventListener("click", () => jumpTo(target));
            return node;
          })()
        : h("span", { cls: "outline-unknown", text: `${target} (no such step)` });
    return h(
      "li",
      {},
      label ? h("span", { cls: "outline-branch", text: `${label} ` }) : null,
      h("span", { cls: "outline-arrow", text: "→ ", attrs: { "aria-hidden": "true" } }),
      h("span", { cls: "visually-hidden", text: "goes to " }),
      to,
    );
  };

  const item = (index, number) => {
    const step = steps[index];
    if (!isObject(step)) {
      return h("li", { cls: "outline-step has-problem", text: `Step ${index}: not an object` });
    }
    const items = problemsAt(problems, `steps.${index}`);
    const kind = STEP_KINDS[step.type] || String(step.type);
    return h(
      "li",
      {
        cls: `outline-step${items.length ? " has-problem" : ""}`,
        attrs: {
          id: ids.get(index),
          tabindex: "-1",
          "data-step-id": String(step.id),
          "data-step-index": String(index),
        },
      },
      h(
        "div",
        { cls: "outline-head" },
        number !== null ? h("span", { cls: "outline-number", text: `${number}.` }) : null,
        h("span", { cls: `outline-kind kind-${String(step.type).replace(/[^a-z_]/g, "")}`, text: kind }),
        h("code", { cls: "outline-id", text: String(step.id) }),
        step.label ? h("span", { cls: "outline-label", text: step.label }) : null,
        index === byId.get(definition.entry_step) && number === 1
          ? h("span", { cls: "chip", text: "entry" })
          : null,
      ),
      h("p", { cls: "outline-summary", text: describeStep(step, definition) }),
      h("ul", { cls: "outline-links", attrs: { "aria-label": `Links of ${step.id}` } }, stepLinks(step, index).map(link)),
      wire(problemList(items), items),
    );
  };

  const rules = [];
  rules.push(["Trigger", describeTrigger(definition.trigger)]);
  if (definition.entry_filter) rules.push(["Entry filter", describeCondition(definition.entry_filter)]);
  const repeat = {
    multiple: "every trigger starts a new run",
    once: "a contact enters once, ever",
    after_exit: "a contact enters again only after its run ended",
  }[definition.repeatability || "multiple"];
  rules.push(["Repeatability", repeat || String(definition.repeatability)]);
  if (definition.entry_limit) rules.push(["Entry limit", `${definition.entry_limit} per contact`]);
  if (definition.test_mode) {
    const emails = Array.isArray(definition.test_emails) ? definition.test_emails.join(", ") : "";
    rules.push(["Test mode", `only ${emails || "(no address yet)"}`]);
  }
  const exits = (Array.isArray(definition.exit_rules) ? definition.exit_rules : []).map((rule) =>
    rule?.type === "condition"
      ? `when ${describeCondition(rule.condition)}`
      : `on ${rule?.event}${rule?.where ? ` when ${describeCondition(rule.where)}` : ""}`,
  );
  if (definition.exit_when_filter_fails) exits.push("when the entry filter fails");
  if (exits.length) rules.push(["Exits", exits.join("; ")]);
  const languages = [definition.default_language || "en", ...(definition.languages || [])];
  rules.push(["Languages", [...new Set(languages)].join(", ")]);
  if (definition.category) rules.push(["Category", definition.category]);

  const outsideSteps = problems.filter((p) => !String(p.path).startsWith("steps."));
  const entryKnown = byId.has(definition.entry_step);
  return h(
    "div",
    { cls: "outline" },
    h(
      "dl",
      { cls: "outline-rules" },
      rules.map(([term, detail]) => [h("dt", { text: term }), h("dd", { text: detail })]),
    ),
    wire(problemList(outsideSteps), outsideSteps),
    entryKnown
      ? null
      : h("p", {
          cls: "outline-unknown",
          text: `The entry step ${text(definition.entry_step)} is not one of the steps.`,
        }),
    h(
      "ol",
      { cls: "outline-steps", attrs: { "aria-label": "Steps from the entry step" } },
      reached.map((index, i) => item(index, i + 1)),
    ),
    rest.length
      ? h(
          "div",
          { cls: "outline-rest" },
          h("h4", { text: "Not reachable from the entry step" }),
          h("ul", { cls: "outline-steps" }, rest.map((index) => item(index, null))),
        )
      : null,
  );
}
