// The cluster (GET /cluster): every node, the shards it holds, its last heartbeat, and which
// node answered. Off-cluster the server is one node owning the one shard. Polled: leases move
// without events. Cluster membership is not namespaced, so nothing here is another tenant's.

import { el, mono, timeEl } from "./dom.js";
import { renderPolled } from "./polled.js";

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
  return renderPolled(main, {
    title: "Cluster",
    cards: [{ id: "nodes-title", heading: "Nodes" }],
    request: () => ctx.api.get("/cluster"),
    failure: "Reading the cluster",
    show: (body, fill) => {
      fill(0, nodeTable(body));
      const nodes = body.nodes.length;
      const shards = body.shard_count;
      return `${nodes} node${nodes === 1 ? "" : "s"}, ${shards} shard${shards === 1 ? "" : "s"}`;
    },
  });
}
