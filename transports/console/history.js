// A workflow's history as a timeline: one entry per event, payloads expandable as JSON.

import { el, jsonDetails, mono, timeEl, workflowLink } from "./dom.js";

const BASE_FIELDS = new Set(["type", "seq", "recorded_at", "workflow_id"]);

function family(type) {
  if (type.startsWith("Workflow")) return "workflow";
  if (type.startsWith("Activity")) return "activity";
  if (type.startsWith("Timer") || type === "WithTimeoutCompleted") return "timer";
  if (type.startsWith("Signal")) return "signal";
  if (type.startsWith("Child")) return "child";
  if (type.startsWith("Schedule")) return "schedule";
  return "other";
}

/** The one-line gist of an event: what a reader looks for first. */
function gist(event) {
  switch (event.type) {
    case "WorkflowStarted":
      return [event.workflow_type, " · run ", mono(event.run_id)];
    case "WorkflowFailed":
      return event.error?.message ?? "";
    case "WorkflowCancelled":
      return event.reason || "";
    case "WorkflowPaused":
      return [event.reason || "", event.operator ? ` by ${event.operator}` : ""];
    case "WorkflowResumed":
      return event.operator ? `by ${event.operator}` : "";
    case "ActivityScheduled":
      return [`${event.activity_type} #${event.activity_id}`, ` on ${event.task_queue}`];
    case "ActivityStarted":
    case "ActivityCompleted":
    case "ActivityCancelled":
      return `#${event.activity_id} · attempt ${event.attempt}`;
    case "ActivityFailed":
      return `#${event.activity_id} · attempt ${event.attempt} · ${event.error?.message ?? ""}`;
    case "TimerStarted":
      return ["timer ", mono(String(event.timer_id)), " fires ", timeEl(event.fire_at)];
    case "TimerFired":
    case "TimerCancelled":
      return ["timer ", mono(String(event.timer_id))];
    case "SignalReceived":
      return ["signal ", mono(event.name)];
    case "SignalSent":
      return ["signal ", mono(event.name), " → ", workflowLink(event.target_workflow_id)];
    case "ChildWorkflowStarted":
    case "ChildWorkflowCompleted":
    case "ChildWorkflowFailed":
    case "ChildWorkflowCancelled":
      return ["child ", workflowLink(event.child_workflow_id)];
    default:
      return "";
  }
}

export function eventItem(event, fresh = false) {
  const details = Object.fromEntries(
    Object.entries(event).filter(([name]) => !BASE_FIELDS.has(name)),
  );
  const hasDetails = Object.keys(details).length > 0;
  return el(
    "li",
    { class: `event family-${family(event.type)}${fresh ? " fresh" : ""}`,
      dataset: { seq: event.seq, type: event.type } },
    el("span", { class: "seq mono", "aria-label": `event ${event.seq}` }, event.seq),
    el("div", { class: "event-body" },
      el("div", { class: "event-head" },
        el("span", { class: "event-type" }, event.type),
        el("span", { class: "event-gist" }, gist(event)),
        el("span", { class: "event-time" }, timeEl(event.recorded_at))),
      hasDetails ? jsonDetails("Payload", details) : null),
  );
}

/** What describe does not say about a pending activity: its last failure and its worker. */
export function activityContext(history, activityId) {
  let lastFailure = null;
  let worker = null;
  let queue = null;
  for (const event of history) {
    if (event.activity_id !== activityId) continue;
    if (event.type === "ActivityScheduled") {
      worker = event.node ?? null;
      queue = event.task_queue ?? null;
      lastFailure = null; // a new run's activity with the same id starts clean
    }
    if (event.type === "ActivityFailed") lastFailure = event.error?.message ?? "failed";
  }
  return { lastFailure, worker, queue };
}
