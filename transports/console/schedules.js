// Schedules of the namespace: spec, next fire times, recent runs; pause, resume, trigger.

import { confirmAction } from "./dialog.js";
import { clear, el, errorBox, mono, statusBadge, successBox, timeEl, workflowLink } from "./dom.js";

function specText(spec) {
  if (spec.cron) return `cron ${spec.cron}${spec.timezone ? ` (${spec.timezone})` : ""}`;
  if (spec.every_seconds) return `every ${spec.every_seconds} s`;
  return JSON.stringify(spec);
}

const ACTIONS = [
  ["pause", "Pause", "Pause this schedule?", "No runs start while it is paused."],
  ["resume", "Resume", "Resume this schedule?", "Ticks missed while paused are not caught up."],
  ["trigger", "Trigger now", "Start a run now?", "The run starts under the overlap policy."],
];

function scheduleCard(ctx, state, outcome, reload) {
  const id = state.schedule_id;
  const buttons = ACTIONS.map(([action, label, title, description]) => {
    const button = el("button", { type: "button", class: "button",
      dataset: { action }, "aria-label": `${label} schedule ${id}` }, label);
    button.addEventListener("click", async () => {
      const values = await confirmAction({ title, description, confirmLabel: label });
      if (values === null) return;
      const reply = await ctx.api.post(`/schedules/${encodeURIComponent(id)}/${action}`, undefined,
        { namespace: ctx.namespace });
      clear(outcome, reply.ok ? successBox(`${label}: done for ${id}`) : errorBox(reply, label));
      reload();
    });
    return button;
  });
  const executions = state.recent_executions || [];
  return el("article", { class: "card schedule", dataset: { scheduleId: id },
    "aria-labelledby": `schedule-${id}` },
    el("div", { class: "card-head" },
      el("h2", { id: `schedule-${id}` }, mono(id)),
      state.paused ? el("span", { class: "badge status-paused" }, "Paused")
        : el("span", { class: "badge status-running" }, "Active")),
    el("dl", { class: "facts" },
      el("dt", {}, "Workflow type"), el("dd", {}, state.workflow_type),
      el("dt", {}, "Spec"), el("dd", {}, mono(specText(state.spec))),
      el("dt", {}, "Overlap"), el("dd", {}, state.overlap_policy),
      el("dt", {}, "Last run"), el("dd", {}, timeEl(state.last_triggered_at)),
      el("dt", {}, "Next fire times"),
      el("dd", {}, state.next_fire_times?.length
        ? el("ul", { class: "plain" }, state.next_fire_times.map((t) => el("li", {}, timeEl(t))))
        : el("span", { class: "muted" }, "none"))),
    el("h3", {}, "Recent runs"),
    executions.length
      ? el("ul", { class: "plain" }, executions.slice(0, 5).map((run) =>
        el("li", {}, statusBadge(run.status), " ", workflowLink(run.workflow_id), " ",
          timeEl(run.triggered_at))))
      : el("p", { class: "empty" }, "No runs yet."),
    el("div", { class: "toolbar", role: "toolbar", "aria-label": `Schedule ${id} actions` },
      buttons));
}

export function renderSchedules(main, ctx) {
  const outcome = el("div", { class: "outcome", "aria-live": "polite" });
  const list = el("div", { class: "schedule-list" });
  clear(main, el("div", { class: "page-head" }, el("h1", {}, "Schedules")), outcome, list);
  let closed = false;

  async function load() {
    const reply = await ctx.api.get("/schedules", { namespace: ctx.namespace });
    if (closed) return;
    if (!reply.ok) {
      clear(list, errorBox(reply, "Listing schedules"));
      return;
    }
    const states = reply.body.schedules.filter((s) => s.namespace === ctx.namespace);
    if (!states.length) {
      clear(list, el("p", { class: "empty" }, "No schedules in this namespace."));
      return;
    }
    // The list carries no fire times: each schedule's own route does.
    const detailed = await Promise.all(states.map(async (state) => {
      const one = await ctx.api.get(`/schedules/${encodeURIComponent(state.schedule_id)}`,
        { namespace: ctx.namespace });
      return one.ok ? one.body.state : state;
    }));
    if (closed) return;
    clear(list, detailed.map((state) => scheduleCard(ctx, state, outcome, load)));
  }

  load();
  return () => {
    closed = true;
  };
}
