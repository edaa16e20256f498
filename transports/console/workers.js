// Remote workers of the namespace (GET /workers?namespace=NS): task queues with their backlog
// and slots, and every connected worker. Polled, since workers come and go without events.

import { el, mono, timeEl } from "./dom.js";
import { renderPolled } from "./polled.js";

function typeList(types) {
  return types.length
    ? el("ul", { class: "chips" }, types.map((t) => el("li", { class: "chip" }, mono(t))))
    : el("span", { class: "muted" }, "any");
}

/** "used / max" with a meter; the text is what a screen reader hears. */
function slots(used, max) {
  return el("span", { class: "slots" },
    el("span", { class: "slots-text" }, `${used} / ${max}`),
    el("meter", { min: 0, max, value: Math.min(used, max), high: max, "aria-hidden": "true" }));
}

/** One row per queue: those with workers, and those with tasks waiting and no worker. */
function queueRows(workers, backlog) {
  const queues = new Map();
  const row = (name) => {
    if (!queues.has(name)) queues.set(name, { name, waiting: 0, workers: 0, used: 0, max: 0 });
    return queues.get(name);
  };
  for (const entry of backlog) row(entry.task_queue).waiting = entry.waiting;
  for (const worker of workers) {
    const queue = row(worker.task_queue);
    queue.workers += 1;
    queue.used += worker.in_flight;
    queue.max += worker.max_concurrent;
  }
  return [...queues.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function queueTable(queues) {
  if (!queues.length) return el("p", { class: "empty" }, "No task queue has workers or tasks.");
  return el("table", { class: "grid", "aria-label": "Task queues" },
    el("thead", {}, el("tr", {}, ["Queue", "Waiting tasks", "Workers", "Slots in use"]
      .map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, queues.map((q) => el("tr", { dataset: { taskQueue: q.name } },
      el("td", {}, mono(q.name)),
      el("td", {}, q.waiting && !q.workers
        ? el("span", { class: "badge status-timedout", title: "no worker serves this queue" },
          `${q.waiting} waiting`)
        : String(q.waiting)),
      el("td", {}, String(q.workers)),
      el("td", {}, q.max ? slots(q.used, q.max) : el("span", { class: "muted" }, "—"))))));
}

function workerTable(workers) {
  if (!workers.length) return el("p", { class: "empty" }, "No worker is connected.");
  return el("table", { class: "grid", "aria-label": "Connected workers" },
    el("thead", {}, el("tr", {}, ["Worker", "Node", "Namespace", "Queue", "Activity types",
      "Slots in use", "Connected"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, workers.map((w) => el("tr", { dataset: { workerId: w.worker_id } },
      el("td", {}, mono(w.worker_id.slice(0, 12), { title: w.worker_id })),
      el("td", {}, w.node),
      el("td", {}, mono(w.namespace)),
      el("td", {}, mono(w.task_queue)),
      el("td", {}, typeList(w.activity_types)),
      el("td", {}, slots(w.in_flight, w.max_concurrent)),
      el("td", {}, timeEl(w.connected_at))))));
}

export function renderWorkers(main, ctx) {
  return renderPolled(main, {
    title: "Workers",
    cards: [{ id: "queues-title", heading: "Task queues" },
      { id: "workers-title", heading: "Connected workers" }],
    request: () => ctx.api.get("/workers", { namespace: ctx.namespace }),
    failure: "Listing workers",
    show: (body, fill) => {
      // The server scopes the reply to the namespace; never show anything else if it did not.
      const workers = body.workers.filter((w) => w.namespace === ctx.namespace);
      const backlog = body.backlog.filter((b) => b.namespace === ctx.namespace);
      fill(0, queueTable(queueRows(workers, backlog)));
      fill(1, workerTable(workers));
      return `${workers.length} worker${workers.length === 1 ? "" : "s"}`;
    },
  });
}
