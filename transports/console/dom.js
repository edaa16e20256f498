// Small DOM and formatting helpers. Text always goes in as text nodes, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const UNITS = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function relativeTime(iso, now = Date.now()) {
  const seconds = (Date.parse(iso) - now) / 1000;
  if (Number.isNaN(seconds)) return String(iso);
  if (Math.abs(seconds) < 5) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return RELATIVE.format(Math.round(seconds / size), unit);
    }
  }
  return String(iso);
}

/** A <time> showing a relative time, the exact UTC time as its tooltip; kept fresh by tick(). */
export function timeEl(iso) {
  if (!iso) return el("span", { class: "muted" }, "—");
  return el("time", { datetime: iso, title: iso, class: "rel" }, relativeTime(iso));
}

export function tickRelativeTimes(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll("time.rel")) {
    node.textContent = relativeTime(node.getAttribute("datetime"), now);
  }
}

export function duration(startIso, endIso) {
  const ms = Date.parse(endIso || new Date().toISOString()) - Date.parse(startIso);
  if (Number.isNaN(ms) || ms < 0) return "—";
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export function statusBadge(status) {
  const name = String(status || "Unknown");
  return el("span", { class: `badge status-${name.toLowerCase()}` }, name);
}

export function mono(text, attrs = {}) {
  return el("code", { class: "mono", ...attrs }, text);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A collapsible JSON block. */
export function jsonDetails(label, value, open = false) {
  return el(
    "details",
    { class: "json", open },
    el("summary", {}, label),
    el("pre", { tabindex: "0" }, el("code", {}, pretty(value))),
  );
}

/** The server's error envelope, shown as an alert: status, code, error_type, message. */
export function errorBox(reply, what = "") {
  const body = reply.body && typeof reply.body === "object" ? reply.body : {};
  const code = body.code || `http_${reply.status}`;
  return el(
    "div",
    { class: "notice error", role: "alert" },
    el("strong", {}, what ? `${what} refused` : "Request refused"),
    " ",
    el("span", { class: "badge status-failed" }, `HTTP ${reply.status}`),
    " ",
    mono(code, { class: "mono error-code" }),
    body.error_type ? [" ", mono(body.error_type, { class: "mono error-type" })] : null,
    el("p", { class: "error-message" }, body.message || String(reply.body || "")),
  );
}

export function successBox(text, detail) {
  return el(
    "div",
    { class: "notice success", role: "status" },
    el("strong", {}, text),
    detail === undefined ? null : el("pre", {}, el("code", {}, pretty(detail))),
  );
}

/** Parse a JSON text field; an empty text is `fallback`. Throws a named error. */
export function parseJsonField(text, field, fallback = null) {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (exc) {
    throw new Error(`${field} is not valid JSON: ${exc.message}`);
  }
}

/** Compact text for a search attribute value ({type, data}). */
export function attributeText(value) {
  if (value && typeof value === "object" && "data" in value) {
    return Array.isArray(value.data) ? value.data.join(", ") : String(value.data);
  }
  return JSON.stringify(value);
}

export function attributeChips(attributes, hidden = ["aion.namespace"]) {
  const names = Object.keys(attributes || {}).filter((name) => !hidden.includes(name)).sort();
  if (!names.length) return el("span", { class: "muted" }, "—");
  return el(
    "ul",
    { class: "chips" },
    names.map((name) =>
      el(
        "li",
        { class: "chip", title: `${name} (${attributes[name]?.type ?? "?"})` },
        el("span", { class: "chip-name" }, name),
        el("span", { class: "chip-value" }, attributeText(attributes[name])),
      ),
    ),
  );
}

export function workflowHref(workflowId) {
  return `#/workflow/${encodeURIComponent(workflowId)}`;
}

export function workflowLink(workflowId, text = workflowId) {
  return el("a", { href: workflowHref(workflowId), class: "mono" }, text);
}
