// The settings dialog: how the console identifies its caller to the server.

import { el } from "./dom.js";
import { grantOf, saveSettings } from "./settings.js";

function radio(name, value, label, checked) {
  const id = `${name}-${value}`;
  return el("div", { class: "radio" },
    el("input", { type: "radio", id, name, value, checked }),
    el("label", { for: id }, label));
}

function field(id, label, control, hint) {
  return el("div", { class: "field" }, el("label", { for: id }, label), control,
    hint ? el("small", { class: "hint" }, hint) : null);
}

/** Open the dialog; resolves with the saved settings, or null when dismissed. */
export function openSettings(current) {
  const opener = document.activeElement;
  const subject = el("input", { id: "settings-subject", name: "subject", autocomplete: "off" });
  subject.value = current.subject;
  const namespaces = el("input", { id: "settings-namespaces", name: "namespaces",
    autocomplete: "off", placeholder: "tenant-a,tenant-b or *" });
  namespaces.value = current.namespaces;
  const token = el("textarea", { id: "settings-token", name: "token", rows: 4, class: "mono",
    spellcheck: "false", placeholder: "eyJhbGciOi…" });
  token.value = current.token;
  const headersPart = el("fieldset", { class: "mode-headers" }, el("legend", {}, "Headers"),
    field("settings-subject", "Subject (x-aion-subject)", subject),
    field("settings-namespaces", "Namespaces (x-aion-namespaces)", namespaces,
      "Comma separated; * for all. Leave both empty to act as the local operator."));
  const jwtPart = el("fieldset", { class: "mode-jwt" }, el("legend", {}, "JWT"),
    field("settings-token", "Bearer token", token,
      "Kept in this tab's session storage only; sent as Authorization: Bearer."));
  const form = el("form", { method: "dialog" },
    el("h2", { id: "settings-title" }, "Connection settings"),
    el("fieldset", { class: "modes" }, el("legend", {}, "Authentication"),
      radio("mode", "headers", "Headers (local use, or behind a proxy)", current.mode !== "jwt"),
      radio("mode", "jwt", "JWT bearer token", current.mode === "jwt")),
    headersPart, jwtPart,
    el("div", { class: "dialog-buttons" },
      el("button", { type: "button", class: "button", value: "dismiss" }, "Dismiss"),
      el("button", { type: "submit", class: "button primary" }, "Save")));
  const dialog = el("dialog", { class: "modal", "aria-labelledby": "settings-title" }, form);
  const sync = () => {
    const jwt = form.elements.mode.value === "jwt";
    jwtPart.hidden = !jwt;
    headersPart.hidden = jwt;
  };
  form.addEventListener("change", sync);
  sync();
  document.body.append(dialog);
  return new Promise((resolve) => {
    let saved = null;
    form.querySelector("button[value=dismiss]").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", () => {
      saved = {
        mode: form.elements.mode.value === "jwt" ? "jwt" : "headers",
        subject: subject.value.trim(),
        namespaces: namespaces.value.trim(),
        token: token.value.trim(),
      };
      saveSettings(saved);
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(saved);
    });
    dialog.showModal();
  });
}

export function identityText(settings) {
  const grant = grantOf(settings);
  const scope = grant.all ? "all namespaces" : grant.namespaces.join(", ") || "no namespaces";
  return `${grant.subject} · ${scope}`;
}
