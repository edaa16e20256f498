// The cluster (GET /cluster): every node, the shards it holds, its last heartbeat, and which
// node answered. Off-cluster the server is one node owning the one shard. Polled: leases move
// without events. Cluster membership is not namespaced, so nothing here is another tenant's.

import { clear, el, errorBox, mono, timeEl } from "./dom.js";
import { POLL_MS } from "./workers.js";

function shardText(shards, total) {
  if (!shards.length) return el("span", { class: "muted" }, "none");
  const share = total ? ` (${Math.round((100 * shards.length) / total)}%)` : "";
  return el("span", { title: shards.join(", ") }, `${shards.length} of ${total}${share}`);
}

function nodeTable(reply) {
  if (!reply.nodes.length) return el("p", { class: "empty" }, "No node holds a lease yet.");
  return el("table", { class: "grid", "aria-label": "Cluster nodes" },
    el("thead", {}, el("tr", {}, ["Node", "Address", "Shards held", "Last heartbeat"]
      .map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, reply.nodes.map((node) => el("tr", { dataset: { nodeId: node.node_id } },
      el("td", {}, mono(node.node_id),
        node.node_id === reply.node_id
          ? el("span", { class: "badge status-running node-self", title: "the node serving this page" },
            "this node")
          : null),
      el("td", {}, mono(node.address)),
      el("td", { class: "shards" }, shardText(node.owned_shards, reply.shard_count)),
      el("td", {}, timeEl(node.last_seen))))));
}

export function renderCluster(main, ctx) {
  const live = el("span", { class: "live-indicator", dataset: { state: "connecting" } },
    "connecting");
  const count = el("span", { class: "count", "aria-live": "polite" });
  const refresh = el("button", { type: "button", class: "button" }, "Refresh");
  const body = el("section", { class: "card", "aria-labelledby": "nodes-title" },
    el("h2", { id: "nodes-title" }, "Nodes"), el("p", { class: "muted" }, "Loading…"));
  clear(main, el("div", { class: "page-head" }, el("h1", {}, "Cluster"), count, live, refresh),
    body);
  let closed = false;
  let timer = null;

  async function load() {
    clearTimeout(timer);
    const reply = await ctx.api.get("/cluster");
    if (closed) return;
    if (!reply.ok) {
      live.dataset.state = "error";
      live.textContent = "refused";
      clear(body, el("h2", { id: "nodes-title" }, "Nodes"), errorBox(reply, "Reading the cluster"));
    } else {
      const nodes = reply.body.nodes.length;
      live.dataset.state = "live";
      live.textContent = `refreshed every ${POLL_MS / 1000} s`;
      count.textContent = `${nodes} node${nodes === 1 ? "" : "s"}, ${reply.body.shard_count}`
        + ` shard${reply.body.shard_count === 1 ? "" : "s"}`;
      clear(body, el("h2", { id: "nodes-title" }, "Nodes"), nodeTable(reply.body));
    }
    timer = setTimeout(load, POLL_MS);
  }

  refresh.addEventListener("click", load);
  load();
  return () => {
    closed = true;
    clearTimeout(timer);
  };
}
