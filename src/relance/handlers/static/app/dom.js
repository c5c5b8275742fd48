// Tiny DOM helpers and formatters. Every value reaches the page as textContent or an attribute:
// the CSP enforces Trusted Types with no policy, so a string written to innerHTML would throw.

import { state } from "./context.js";

export const $ = (id) => document.getElementById(id);

/** An element with a class, text (always textContent) and attributes, then children. */
export function h(tag, { cls, text, attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** A `<button type="button">` calling `onClick`. */
export function button(text, onClick, { cls = "button secondary small", attrs } = {}) {
  const node = h("button", { cls, text, attrs: { type: "button", ...attrs } });
  node.addEventListener("click", onClick);
  return node;
}

/** A unique id for aria-controls / aria-describedby pairs. */
let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

export function formatNumber(value) {
  try {
    return new Intl.NumberFormat(state.locale).format(value);
  } catch {
    return String(value);
  }
}

function validDate(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDate(iso) {
  const date = validDate(iso);
  if (!date) return "";
  try {
    return new Intl.DateTimeFormat(state.locale, { dateStyle: "medium" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

export function formatDateTime(iso) {
  const date = validDate(iso);
  if (!date) return "";
  try {
    return new Intl.DateTimeFormat(state.locale, { dateStyle: "medium", timeStyle: "short" }).format(
      date,
    );
  } catch {
    return date.toISOString().slice(0, 16).replace("T", " ");
  }
}

/** `<time datetime="…">` with the formatted date (and time), or a muted dash. */
export function timeEl(iso, { withTime = true } = {}) {
  const text = withTime ? formatDateTime(iso) : formatDate(iso);
  if (!text) return h("span", { cls: "muted", text: "—" });
  return h("time", { text, attrs: { datetime: iso, title: formatDateTime(iso) || iso } });
}

export function dash() {
  return h("span", { cls: "muted", text: "—" });
}

/** English durations for the outline: 7200 → "2 hours", 93600 → "1 day 2 hours". */
export function formatDuration(seconds) {
  const value = Number(seconds);
  if (!Number.isFinite(value) || value < 0) return String(seconds);
  const units = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];
  const parts = [];
  let rest = Math.round(value);
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    if (count) parts.push(`${count} ${name}${count === 1 ? "" : "s"}`);
    rest -= count * size;
  }
  return parts.length ? parts.join(" ") : "0 seconds";
}

/** Ask the browser to save `text` as `filename` (a Blob and a temporary link). */
export function download(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { attrs: { href: url, download: filename, hidden: "" } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
