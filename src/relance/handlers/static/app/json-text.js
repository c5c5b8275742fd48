// JSON as text in the editors: a readable layout, and where each path (`steps.2.next`) sits in
// the text, so that a violation can select the part of the document it is about.

/** JSON laid out for reading: 2-space indent, short arrays and objects on one line. */
export function formatJson(value, width = 88) {
  return layout(value, "", width);
}

function oneLine(value) {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(", ")}]`;
  if (value && typeof value === "object") {
    const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLine(v)}`);
    return `{${members.join(", ")}}`;
  }
  return JSON.stringify(value);
}

/** `lead`: what precedes the value on its first line after the indent (its key). */
function layout(value, indent, width, lead = 0) {
  const flat = oneLine(value);
  const container = value && typeof value === "object";
  if (!container || indent.length + lead + flat.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((item) => inner + layout(item, inner, width));
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const members = entries.map(([key, item]) => {
    const head = `${JSON.stringify(key)}: `;
    return inner + head + layout(item, inner, width, head.length);
  });
  return `{\n${members.join(",\n")}\n${indent}}`;
}

export class JsonTextError extends Error {
  constructor(message, offset) {
    super(message);
    this.offset = offset;
  }
}

/** Where every value of the JSON `text` is: path ("" for the root, "steps.2.next") → {start, end}.
 * An object member spans from its key to the end of its value. Throws JsonTextError. */
export function locate(text) {
  const spans = new Map();
  let i = 0;

  const fail = (message) => {
    const end = i >= text.length;
    throw new JsonTextError(end ? "the document ends too early" : message, Math.min(i, text.length));
  };
  const space = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i += 1;
  };
  const string = () => {
    if (text[i] !== '"') fail("expected a string in double quotes");
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i += 1;
      else if (text.charCodeAt(i) < 0x20) fail("a control character must be escaped in a string");
      i += 1;
    }
    if (i >= text.length) fail("this string is not closed");
    i += 1;
    return JSON.parse(text.slice(start, i));
  };
  const join = (path, key) => (path === "" ? String(key) : `${path}.${key}`);
  const value = (path, memberStart) => {
    space();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i += 1;
      space();
      if (text[i] === "}") i += 1;
      else {
        for (;;) {
          space();
          const keyStart = i;
          const key = string();
          space();
          if (text[i] !== ":") fail("expected ':' after a key");
          i += 1;
          value(join(path, key), keyStart);
          space();
          if (text[i] === ",") i += 1;
          else if (text[i] === "}") {
            i += 1;
            break;
          } else fail("expected ',' or '}'");
        }
      }
    } else if (c === "[") {
      i += 1;
      space();
      if (text[i] === "]") i += 1;
      else {
        for (let index = 0; ; index += 1) {
          value(join(path, index));
          space();
          if (text[i] === ",") i += 1;
          else if (text[i] === "]") {
            i += 1;
            break;
          } else fail("expected ',' or ']'");
        }
      }
    } else if (c === '"') {
      string();
    } else {
      const match = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!match) fail(`unexpected ${JSON.stringify(c)}`);
      i += match[0].length;
    }
    spans.set(path, { start: memberStart ?? start, end: i });
  };

  value("");
  space();
  if (i < text.length) fail("unexpected text after the document");
  return spans;
}

/** The span of `path` in `text`, else of its nearest ancestor that exists; null if the text is
 * not JSON. `exact` tells whether the path itself was found. */
export function locatePath(text, path) {
  let spans;
  try {
    spans = locate(text);
  } catch {
    return null;
  }
  const parts = String(path || "").split(".").filter((part) => part !== "");
  for (let length = parts.length; length >= 0; length -= 1) {
    const span = spans.get(parts.slice(0, length).join("."));
    if (span) return { ...span, exact: length === parts.length };
  }
  return null;
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** Parse the JSON of an editor: {value} or {error: "line 3, column 5: …", offset}. */
export function parseText(text) {
  try {
    return { value: JSON.parse(text) };
  } catch (parseError) {
    try {
      locate(text);
    } catch (error) {
      if (error instanceof JsonTextError) {
        const { line, column } = lineColumn(text, error.offset);
        return { error: `line ${line}, column ${column}: ${error.message}`, offset: error.offset };
      }
    }
    return { error: String(parseError.message), offset: null };
  }
}

/** Focus `textarea` with the text of `path` selected and scrolled into view. */
export function selectPath(textarea, path) {
  const span = locatePath(textarea.value, path);
  textarea.focus();
  if (!span) return false;
  selectRange(textarea, span.start, span.end);
  return span.exact;
}

export function selectRange(textarea, start, end) {
  textarea.focus();
  textarea.setSelectionRange(start, end);
  const { line } = lineColumn(textarea.value, start);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
  textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
}
