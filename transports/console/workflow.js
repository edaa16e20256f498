// One workflow: summary, pending work, run chain and relations, queries, actions, and the
// history timeline kept live over a per_workflow stream that resumes from its last seq.

import { actionBar, queryPanel } from "./actions.js";
import {
  attributeChips, clear, duration, el, errorBox, mono, statusBadge, timeEl, workflowHref,
  workflowLink,
} from "./dom.js";
import { activityContext, eventItem } from "./history.js";

const HISTORY_PAGE = 2000;
const DESCRIBE_DEBOUNCE_MS = 200;

function definitionList(rows) {
  return el("dl", { class: "facts" },
    rows.filter(Boolean).map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}

function summaryCard(summary) {
  return el("section", { class: "card", "aria-labelledby": "summary-title" },
    el("h2", { id: "summary-title" }, "Summary"),
    definitionList([
      ["Workflow ID", mono(summary.workflow_id)],
      ["Run ID", mono(summary.run_id)],
      ["Type", summary.workflow_type],
      ["Namespace", mono(summary.namespace)],
      ["Status", statusBadge(summary.status)],
      ["Started", timeEl(summary.started_at)],
      ["Ended", timeEl(summary.ended_at)],
      ["Duration", duration(summary.started_at, summary.ended_at)],
      ["Parent", summary.parent ? workflowLink(summary.parent) : el("span", { class: "muted" }, "—")],
      summary.failure_reason ? ["Failure", el("span", { class: "failure" }, summary.failure_reason)]
        : null,
      ["Search attributes", attributeChips(summary.search_attributes)],
    ]));
}

function latestRun(history) {
  let start = 0;
  history.forEach((event, index) => {
    if (event.type === "WorkflowStarted") start = index;
  });
  return history.slice(start);
}

function pendingCard(description, history) {
  const run = latestRun(history);
  const activities = description.pending_activities.length
    ? el("table", { class: "grid compact", "aria-label": "Pending activities" },
      el("thead", {}, el("tr", {}, ["Activity", "Type", "Attempt", "Last failure", "Worker"]
        .map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, description.pending_activities.map((activity) => {
        const context = activityContext(run, activity.activity_id);
        return el("tr", {},
          el("td", {}, mono(`#${activity.activity_id}`)),
          el("td", {}, activity.activity_type),
          el("td", {}, String(activity.attempt)),
          el("td", {}, context.lastFailure ?? el("span", { class: "muted" }, "—")),
          el("td", {}, context.worker ?? (context.queue ? `queue ${context.queue}` : "in-process")));
      })))
    : el("p", { class: "empty" }, "No pending activities.");
  const timers = description.pending_timers.length
    ? el("ul", { class: "plain", "aria-label": "Pending timers" },
      description.pending_timers.map((timer) =>
        el("li", {}, "timer ", mono(String(timer.timer_id)), " fires ", timeEl(timer.fire_at))))
    : el("p", { class: "empty" }, "No pending timers.");
  return el("section", { class: "card", "aria-labelledby": "pending-title" },
    el("h2", { id: "pending-title" }, "Pending work"),
    el("h3", {}, "Activities"), activities, el("h3", {}, "Timers"), timers);
}

function runLink(workflowId, runId) {
  return el("a", { href: `${workflowHref(workflowId)}?run=${encodeURIComponent(runId)}`,
    class: "mono", "aria-label": `History of run ${runId}` }, runId);
}

function relationsCard(description, children) {
  const current = description.summary.run_id;
  const workflowId = description.summary.workflow_id;
  return el("section", { class: "card", "aria-labelledby": "relations-title" },
    el("h2", { id: "relations-title" }, "Runs and relations"),
    el("h3", {}, "Run chain"),
    el("ol", { class: "runs" }, description.runs.map((run) =>
      el("li", { class: run.run_id === current ? "current" : "" },
        statusBadge(run.status), " ", runLink(workflowId, run.run_id), " started ", timeEl(run.started_at),
        run.run_id === current ? el("span", { class: "tag" }, "latest") : null))),
    el("h3", {}, "Parent"),
    description.summary.parent ? el("p", {}, workflowLink(description.summary.parent))
      : el("p", { class: "empty" }, "None: started directly."),
    el("h3", {}, "Children"),
    children.length
      ? el("ul", { class: "plain", "aria-label": "Children" },
        children.map((id) => el("li", {}, workflowLink(id))))
      : el("p", { class: "empty" }, "No child workflows."));
}

export function renderWorkflow(main, ctx, workflowId, onlyRun = "") {
  const ref = { namespace: ctx.namespace, workflowId };
  const heading = el("div", { class: "page-head" },
    el("h1", {}, mono(workflowId, { class: "mono title-id" })));
  const outcome = el("div", { class: "outcome", "aria-live": "polite" });
  const overview = el("div", { class: "columns" });
  const relations = el("div");
  const live = el("span", { class: "live-indicator", dataset: { state: "connecting" } },
    "connecting…");
  const timeline = el("ol", { class: "timeline", "aria-label": "History", "aria-live": "polite" });
  const body = el("div", { class: "detail-body" });
  clear(main,
    el("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" },
      el("a", { href: "#/workflows" }, "Workflows"), " / ", mono(workflowId)),
    heading, outcome, body);

  const history = [];
  let lastSeq = 0;
  let stream = null;
  let describeTimer = null;
  let closed = false;

  async function describe() {
    const reply = await ctx.api.post("/workflows/describe",
      { namespace: ctx.namespace, workflow_id: workflowId });
    if (closed) return false;
    if (!reply.ok || reply.body.summary.namespace !== ctx.namespace) {
      clear(body, errorBox(reply, "Describing the workflow"));
      return false;
    }
    const description = reply.body;
    clear(heading, el("h1", {}, mono(workflowId, { class: "mono title-id" })),
      statusBadge(description.summary.status),
      el("span", { class: "muted" }, description.summary.workflow_type));
    clear(overview, summaryCard(description.summary), pendingCard(description, history));
    const listed = await ctx.api.get("/workflows", { namespace: ctx.namespace, parent: workflowId,
      limit: 100 });
    const children = new Set(listed.ok
      ? listed.body.workflows.filter((w) => w.namespace === ctx.namespace).map((w) => w.workflow_id)
      : []);
    for (const event of history) {
      if (event.type === "ChildWorkflowStarted") children.add(event.child_workflow_id);
    }
    clear(relations, relationsCard(description, [...children]));
    return true;
  }

  function describeSoon() {
    clearTimeout(describeTimer);
    describeTimer = setTimeout(describe, DESCRIBE_DEBOUNCE_MS);
  }

  let runOfEvents = "";
  function addEvent(event, fresh) {
    if (event.seq <= lastSeq) return; // already shown (a replay overlapping what we read)
    history.push(event);
    lastSeq = event.seq;
    if (event.type === "WorkflowStarted") runOfEvents = event.run_id;
    const item = eventItem(event, fresh);
    item.dataset.run = runOfEvents;
    item.hidden = Boolean(onlyRun) && runOfEvents !== onlyRun;
    timeline.append(item);
  }

  async function readHistory() {
    let fromSeq = lastSeq + 1;
    while (fromSeq !== null && !closed) {
      const reply = await ctx.api.post("/workflows/history", {
        namespace: ctx.namespace, workflow_id: workflowId, from_seq: fromSeq, limit: HISTORY_PAGE,
      });
      if (!reply.ok) return false;
      for (const event of reply.body.events) addEvent(event, false);
      fromSeq = reply.body.next_from_seq;
    }
    return true;
  }

  function watch() {
    if (stream || closed) return;
    stream = ctx.api.stream(
      () => ({ per_workflow: {
        namespace: ctx.namespace, workflow_id: workflowId, resume_from_seq: lastSeq + 1,
      } }),
      {
        onEvent: (frame) => {
          if (frame.namespace !== ctx.namespace || frame.event.workflow_id !== workflowId) return;
          addEvent(frame.event, true);
          describeSoon();
        },
        onState: (state) => {
          live.dataset.state = state;
          live.textContent = { live: "live", connecting: "connecting…", ended: "ended",
            error: "stream refused" }[state] || state;
        },
        onEnd: () => {
          stream = null;
          describeSoon();
        },
        onError: (error) => {
          stream = null;
          outcome.append(errorBox({ status: 0, body: error }, "Live history"));
        },
      },
    );
  }

  (async () => {
    if (!(await describe())) return;
    const toolbar = actionBar(ctx, ref, outcome, async () => {
      await describe();
      watch(); // a reopened or resumed workflow goes on: follow it again
    });
    clear(body, toolbar, overview,
      el("section", { class: "card", "aria-labelledby": "history-title" },
        el("div", { class: "card-head" }, el("h2", { id: "history-title" }, "History"), live),
        onlyRun ? el("p", { class: "run-filter" }, "Showing run ", mono(onlyRun), " only · ",
          el("a", { href: workflowHref(workflowId) }, "Show every run")) : null,
        timeline),
      el("div", { class: "columns" }, relations, queryPanel(ctx, ref)));
    if (await readHistory()) {
      describeSoon(); // pending activities need the history for their last failure
      watch();
    }
  })();

  return () => {
    closed = true;
    clearTimeout(describeTimer);
    stream?.close();
  };
}
