// A modal confirmation, optionally with fields: every action asks before it acts.

import { el } from "./dom.js";

let counter = 0;

/**
 * Ask to confirm `title`; resolves with the fields' values, or null when dismissed.
 * fields: [{name, label, kind: "text"|"json"|"textarea", value?, required?, hint?}]
 * `validate(values)` may return an error text that keeps the dialog open.
 */
export function confirmAction({ title, description, fields = [], confirmLabel, danger, validate }) {
  const opener = document.activeElement;
  counter += 1;
  const id = `dialog-${counter}`;
  const problem = el("p", { class: "form-error", role: "alert", hidden: true });
  const inputs = fields.map((field) => {
    const inputId = `${id}-${field.name}`;
    const multi = field.kind === "json" || field.kind === "textarea";
    const input = multi
      ? el("textarea", { id: inputId, name: field.name, rows: 5, spellcheck: "false",
        class: field.kind === "json" ? "mono" : "", required: field.required })
      : el("input", { id: inputId, name: field.name, type: "text", autocomplete: "off",
        required: field.required });
    input.value = field.value ?? "";
    return el(
      "div",
      { class: "field" },
      el("label", { for: inputId }, field.label),
      input,
      field.hint ? el("small", { class: "hint" }, field.hint) : null,
    );
  });
  const confirm = el(
    "button",
    { type: "submit", class: danger ? "button danger" : "button primary", value: "confirm" },
    confirmLabel,
  );
  const dismiss = el("button", { type: "button", class: "button" }, "Dismiss");
  const form = el(
    "form",
    { method: "dialog" },
    el("h2", { id: `${id}-title` }, title),
    description ? el("p", { class: "muted" }, description) : null,
    inputs,
    problem,
    el("div", { class: "dialog-buttons" }, dismiss, confirm),
  );
  const dialog = el("dialog", { "aria-labelledby": `${id}-title`, class: "modal" }, form);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let result = null;
    const values = () => Object.fromEntries(fields.map((f) => [f.name, form.elements[f.name].value]));
    form.addEventListener("submit", (event) => {
      const error = validate ? validate(values()) : null;
      if (error) {
        event.preventDefault();
        problem.textContent = error;
        problem.hidden = false;
        return;
      }
      result = values();
    });
    dismiss.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    dialog.showModal();
    (form.querySelector("input, textarea") || confirm).focus();
  });
}
