// Who the console calls as: headers mode (subject + namespaces) or a pasted JWT.
// The token stays in sessionStorage (gone when the tab closes); header settings and the
// chosen namespace live in localStorage. Grants read here only shape the UI: the server
// checks every request.

const TOKEN_KEY = "aion.jwt";
const SETTINGS_KEY = "aion.settings";
const NAMESPACE_KEY = "aion.namespace";

export function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") || {};
  } catch {
    saved = {};
  }
  return {
    mode: saved.mode === "jwt" ? "jwt" : "headers",
    subject: typeof saved.subject === "string" ? saved.subject : "",
    namespaces: typeof saved.namespaces === "string" ? saved.namespaces : "",
    token: sessionStorage.getItem(TOKEN_KEY) || "",
  };
}

export function saveSettings(settings) {
  const { mode, subject, namespaces, token } = settings;
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ mode, subject, namespaces }));
  if (mode === "jwt" && token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The claims of a JWT, read without verifying it (the server verifies); null if unreadable. */
export function jwtClaims(token) {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const text = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const claims = JSON.parse(text);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

function parseNamespaces(raw) {
  if (raw === undefined || raw === null) return [];
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(",");
  return [...new Set(items.map((item) => item.trim()).filter(Boolean))];
}

/** {subject, all, namespaces}: what the caller may see, as the server's auth would read it. */
export function grantOf(settings) {
  if (settings.mode === "jwt") {
    const claims = settings.token ? jwtClaims(settings.token) : null;
    if (!claims) return { subject: "(no valid token)", all: false, namespaces: [] };
    const names = parseNamespaces(claims.namespaces);
    return { subject: String(claims.sub ?? "?"), all: names.includes("*"), namespaces: names };
  }
  if (!settings.subject && !settings.namespaces) {
    return { subject: "local operator", all: true, namespaces: [] };
  }
  const names = parseNamespaces(settings.namespaces);
  return { subject: settings.subject || "anonymous", all: names.includes("*"), namespaces: names };
}

/** HTTP headers for a request. */
export function authHeaders(settings) {
  if (settings.mode === "jwt") {
    return settings.token ? { Authorization: `Bearer ${settings.token}` } : {};
  }
  const headers = {};
  if (settings.subject) headers["x-aion-subject"] = settings.subject;
  if (settings.namespaces) headers["x-aion-namespaces"] = settings.namespaces;
  return headers;
}

/** The same identity as WebSocket query parameters (a browser socket cannot set headers). */
export function authQuery(settings) {
  const params = new URLSearchParams();
  if (settings.mode === "jwt") {
    if (settings.token) params.set("access_token", settings.token);
  } else {
    if (settings.subject) params.set("x-aion-subject", settings.subject);
    if (settings.namespaces) params.set("x-aion-namespaces", settings.namespaces);
  }
  return params;
}

export function savedNamespace() {
  return localStorage.getItem(NAMESPACE_KEY) || "";
}

export function saveNamespace(namespace) {
  localStorage.setItem(NAMESPACE_KEY, namespace);
}

/** The namespace to show: the saved one if granted, else the first granted (or "default"). */
export function pickNamespace(grant, wanted) {
  if (grant.all) return wanted || "default";
  if (grant.namespaces.includes(wanted)) return wanted;
  return grant.namespaces[0] || "";
}
