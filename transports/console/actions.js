// The actions on one workflow and its query panel. Each action confirms first, then shows
// the server's answer: what changed, or the error envelope when it refused.

import { confirmAction } from "./dialog.js";
import { clear, el, errorBox, parseJsonField, successBox } from "./dom.js";

function jsonValidator(field, label, mustBeList = false) {
  return (values) => {
    try {
      const value = parseJsonField(values[field], label, mustBeList ? [] : null);
      if (mustBeList && !Array.isArray(value)) return `${label} must be a JSON list, e.g. [1, "a"]`;
    } catch (exc) {
      return exc.message;
    }
    return null;
  };
}

function requireName(field, label, next) {
  return (values) => (values[field].trim() ? next?.(values) ?? null : `${label} is required`);
}

const REASON = { name: "reason", label: "Reason (optional)", kind: "text" };

/** A message with a name and a JSON value (a signal's payload, an update's arguments). */
function messageAction({ label, path, noun, done, description, json, extra = {} }, base) {
  const nameField = `${noun}_name`;
  const nameLabel = `${label} name`;
  const jsonLabel = json.list ? `${json.label} (JSON list)` : `${json.label} (JSON)`;
  return {
    label, path, done,
    dialog: {
      title: `Send ${noun === "update" ? "an" : "a"} ${noun}`, confirmLabel: `Send ${noun}`,
      description,
      fields: [
        { name: nameField, label: nameLabel, kind: "text", required: true },
        { name: json.name, label: jsonLabel, kind: "json", value: json.value },
      ],
      validate: requireName(nameField, nameLabel, jsonValidator(json.name, json.label, json.list)),
    },
    body: (v) => ({ ...base, [nameField]: v[nameField].trim(),
      [json.name]: parseJsonField(v[json.name], json.label, json.list ? [] : null), ...extra }),
  };
}

/** The action table: label, dialog and the request it makes. */
function actions(ref) {
  const base = { namespace: ref.namespace, workflow_id: ref.workflowId };
  const reasoned = (values) => ({ ...base, ...(values.reason ? { reason: values.reason } : {}) });
  return [
    messageAction({
      label: "Signal", path: "/workflows/signal", noun: "signal", done: "Signal recorded",
      description: "The signal is recorded in the history before the server acknowledges it.",
      json: { name: "payload", label: "Payload", value: "null", list: false },
    }, base),
    messageAction({
      label: "Update", path: "/workflows/update", noun: "update", done: "Update finished",
      description: "Runs the workflow's update handler and waits for its result.",
      json: { name: "args", label: "Arguments", value: "[]", list: true },
      extra: { wait_ms: 10000 },
    }, base),
    {
      label: "Cancel", path: "/workflows/cancel", danger: true,
      dialog: { title: "Cancel this workflow?", confirmLabel: "Cancel workflow", fields: [REASON],
        description: "The workflow's code sees the cancellation and may clean up." },
      body: reasoned, done: "Cancellation requested",
    },
    {
      label: "Terminate", path: "/workflows/terminate", danger: true,
      dialog: { title: "Terminate this workflow?", confirmLabel: "Terminate workflow",
        fields: [REASON],
        description: "It ends at once: its code gets no further step and runs no compensation." },
      body: reasoned, done: "Workflow terminated",
    },
    {
      label: "Pause", path: "/workflows/pause",
      dialog: { title: "Pause this workflow?", confirmLabel: "Pause workflow", fields: [REASON],
        description: "A paused workflow takes no further steps until it is resumed." },
      body: reasoned, done: "Workflow paused",
    },
    {
      label: "Resume", path: "/workflows/resume",
      dialog: { title: "Resume this workflow?", confirmLabel: "Resume workflow" },
      body: () => base, done: "Workflow resumed",
    },
    {
      label: "Reopen", path: "/workflows/reopen",
      dialog: { title: "Reopen this workflow?", confirmLabel: "Reopen workflow",
        description: "A Failed or Cancelled workflow runs again from where it ended." },
      body: () => base, done: "Workflow reopened",
    },
  ];
}

/** The toolbar; `outcome` is where answers appear, `onDone` refreshes the page. */
export function actionBar(ctx, ref, outcome, onDone) {
  const buttons = actions(ref).map((action) => {
    const button = el(
      "button",
      { type: "button", class: action.danger ? "button danger" : "button",
        dataset: { action: action.label.toLowerCase() } },
      action.label,
    );
    button.addEventListener("click", async () => {
      const values = await confirmAction({ danger: action.danger, ...action.dialog });
      if (values === null) return;
      button.disabled = true;
      const reply = await ctx.api.post(action.path, action.body(values));
      button.disabled = false;
      clear(outcome, reply.ok
        ? successBox(action.done, Object.keys(reply.body || {}).length ? reply.body : undefined)
        : errorBox(reply, action.label));
      onDone();
    });
    return button;
  });
  return el("div", { class: "toolbar", role: "toolbar", "aria-label": "Workflow actions" },
    buttons);
}

/** Query the live workflow: a name and a JSON list of arguments. */
export function queryPanel(ctx, ref) {
  const answer = el("div", { class: "query-answer", "aria-live": "polite" });
  const name = el("input", { id: "query-name", name: "query_name", required: true,
    autocomplete: "off", placeholder: "e.g. state" });
  const args = el("input", { id: "query-args", name: "args", class: "mono", value: "[]",
    autocomplete: "off" });
  const form = el(
    "form", { class: "query-form", "aria-label": "Query" },
    el("div", { class: "field" }, el("label", { for: "query-name" }, "Query name"), name),
    el("div", { class: "field grow" }, el("label", { for: "query-args" }, "Arguments (JSON list)"),
      args),
    el("button", { type: "submit", class: "button primary" }, "Run query"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = parseJsonField(args.value, "Arguments", []);
      if (!Array.isArray(parsed)) throw new Error("Arguments must be a JSON list");
    } catch (exc) {
      clear(answer, el("p", { class: "form-error", role: "alert" }, exc.message));
      return;
    }
    const reply = await ctx.api.post("/workflows/query", {
      namespace: ref.namespace, workflow_id: ref.workflowId, query_name: name.value.trim(),
      args: parsed,
    });
    if (!reply.ok) clear(answer, errorBox(reply, "Query"));
    else if (reply.body.error) clear(answer, errorBox({ status: 200, body: reply.body.error }, "Query"));
    else clear(answer, successBox("Query result", reply.body.result));
  });
  return el("section", { class: "card", "aria-labelledby": "query-title" },
    el("h2", { id: "query-title" }, "Query"), form, answer);
}
