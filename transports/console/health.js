// Health and a few figures from /metrics (Prometheus text), plus workflow counts by status.

import { clear, el, errorBox } from "./dom.js";
import { STATUSES } from "./workflows.js";

const FIGURES = [
  ["aionactors_resident_workflows", "Resident workflows"],
  ["aionactors_stream_sockets", "Open stream sockets"],
  ["aionactors_broadcast_events_total", "Events broadcast"],
  ["aionactors_stream_lagged_total", "Lagged subscribers"],
  ["aionactors_workers_connected", "Remote workers"],
  ["aionactors_task_queue_backlog", "Tasks waiting for a worker"],
  ["aionactors_broadcast_restarts_total", "Broadcaster restarts"],
  ["aionactors_draining", "Draining"],
];

/** Sum of every sample of each metric name (labels folded). */
export function metricTotals(text) {
  const totals = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) totals.set(match[1], (totals.get(match[1]) || 0) + value);
  }
  return totals;
}

function tile(label, value, state = "") {
  return el("div", { class: `tile ${state}` },
    el("span", { class: "tile-label" }, label), el("span", { class: "tile-value" }, value));
}

export function renderHealth(main, ctx) {
  const probes = el("div", { class: "tiles", "aria-label": "Health" });
  const figures = el("div", { class: "tiles", "aria-label": "Metrics" });
  const counts = el("div", { class: "tiles", "aria-label": "Workflows by status" });
  clear(main, el("div", { class: "page-head" }, el("h1", {}, "Health")),
    el("section", { class: "card" }, el("h2", {}, "Probes"), probes),
    el("section", { class: "card" }, el("h2", {}, "Server figures"), figures),
    el("section", { class: "card" }, el("h2", {}, `Workflows in ${ctx.namespace}`), counts));
  let closed = false;

  (async () => {
    const [liveReply, readyReply, metricsReply] = await Promise.all([
      ctx.api.get("/health/live"), ctx.api.get("/health/ready"), ctx.api.get("/metrics"),
    ]);
    if (closed) return;
    clear(probes,
      tile("Live", liveReply.ok ? "live" : "down", liveReply.ok ? "good" : "bad"),
      tile("Ready", readyReply.ok ? "ready" : readyReply.body?.message || "not ready",
        readyReply.ok ? "good" : "bad"));
    if (metricsReply.ok) {
      const totals = metricTotals(String(metricsReply.body));
      const requests = totals.get("aionactors_http_requests_total");
      clear(figures,
        FIGURES.filter(([name]) => totals.has(name))
          .map(([name, label]) => tile(label, String(totals.get(name)))),
        requests === undefined ? null : tile("HTTP requests", String(requests)));
    } else {
      clear(figures, errorBox(metricsReply, "Metrics"));
    }
    const replies = await Promise.all(STATUSES.map((status) =>
      ctx.api.get("/workflows/count", { namespace: ctx.namespace, status })));
    if (closed) return;
    const failed = replies.find((reply) => !reply.ok);
    clear(counts, failed ? errorBox(failed, "Counting workflows")
      : STATUSES.map((status, i) => tile(status, String(replies[i].body.count))));
  })();
  return () => {
    closed = true;
  };
}
