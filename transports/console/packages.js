// Package versions: deploy an archive, route a workflow type to a version (rollback or
// roll-forward), unload a drained version. Needs deploy rights; a refusal shows its envelope.

import { confirmAction } from "./dialog.js";
import { clear, el, errorBox, mono, successBox, timeEl } from "./dom.js";

function shortHash(hash) {
  return mono(hash.slice(0, 19) + "…", { title: hash });
}

function typeList(types) {
  return types.length
    ? el("ul", { class: "plain" }, types.map((t) => el("li", {}, mono(t))))
    : el("span", { class: "muted" }, "none");
}

function deployForm(ctx, outcome, reload) {
  const file = el("input", { id: "package-file", name: "package", type: "file", accept: ".zip" });
  const route = el("input", { id: "package-route", name: "route", type: "checkbox", checked: true });
  const deploy = el("button", { type: "submit", class: "button primary" }, "Deploy");
  const form = el("form", { class: "card deploy", "aria-labelledby": "deploy-title" },
    el("h2", { id: "deploy-title" }, "Deploy a version"),
    el("div", { class: "field" }, el("label", { for: "package-file" }, "Package archive (.zip)"),
      file),
    el("div", { class: "field inline" }, route,
      el("label", { for: "package-route" }, "Route its workflow types to it")),
    el("div", { class: "toolbar" }, deploy));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      clear(outcome, errorBox({ status: 0, body: { code: "invalid_input",
        message: "choose a package archive first" } }, "Deploy"));
      return;
    }
    const values = await confirmAction({ title: `Deploy ${chosen.name}?`,
      description: route.checked ? "New starts of its workflow types will run it."
        : "It is loaded without routing: new starts keep their current version.",
      confirmLabel: "Deploy" });
    if (values === null) return;
    const reply = await ctx.api.request("POST", "/packages", {
      raw: await chosen.arrayBuffer(), contentType: "application/zip",
      params: route.checked ? {} : { route: "false" } });
    clear(outcome, reply.ok
      ? successBox(`Deployed ${reply.body.name} ${reply.body.content_hash}`
        + (reply.body.freshly_loaded ? "" : " (already loaded)"),
        reply.body.routes_changed.length ? `Routes changed: ${reply.body.routes_changed.join(", ")}`
          : "No route changed.")
      : errorBox(reply, "Deploy"));
    reload();
  });
  return form;
}

function versionRow(ctx, info, outcome, reload) {
  const actions = [];
  for (const type of info.workflow_types.filter((t) => !info.routed_types.includes(t))) {
    const button = el("button", { type: "button", class: "button",
      "aria-label": `Route ${type} to ${info.content_hash}` }, `Route ${type} here`);
    button.addEventListener("click", async () => {
      const values = await confirmAction({ title: `Route ${type} to this version?`,
        description: "New starts of the type run it; pinned runs stay on their version.",
        confirmLabel: "Route" });
      if (values === null) return;
      const reply = await ctx.api.post("/packages/route",
        { workflow_type: type, content_hash: info.content_hash });
      const previous = reply.ok && reply.body.previous ? ` (was ${reply.body.previous})` : "";
      clear(outcome, reply.ok ? successBox(`${type} now routes to ${info.content_hash}${previous}`)
        : errorBox(reply, "Route"));
      reload();
    });
    actions.push(button);
  }
  const unload = el("button", { type: "button", class: "button danger",
    "aria-label": `Unload ${info.content_hash}` }, "Unload");
  unload.addEventListener("click", async () => {
    const values = await confirmAction({ title: "Unload this version?", danger: true,
      description: "Refused while it routes a type or runs are pinned to it.",
      confirmLabel: "Unload" });
    if (values === null) return;
    const reply = await ctx.api.delete(`/packages/${encodeURIComponent(info.content_hash)}`);
    clear(outcome, reply.ok ? successBox(`Unloaded ${info.content_hash}`) : errorBox(reply, "Unload"));
    reload();
  });
  actions.push(unload);
  const drained = info.pinned_runs === 0;
  return el("tr", { dataset: { contentHash: info.content_hash } },
    el("td", {}, shortHash(info.content_hash)),
    el("td", {}, info.name, " ", el("span", { class: "muted" }, `(${info.source})`)),
    el("td", {}, timeEl(info.deployed_at)),
    el("td", {}, typeList(info.workflow_types)),
    el("td", {}, typeList(info.routed_types)),
    el("td", {}, drained ? el("span", { class: "badge status-completed" }, "drained")
      : `${info.pinned_runs}`),
    el("td", {}, el("div", { class: "toolbar", role: "toolbar",
      "aria-label": `Version ${info.content_hash} actions` }, actions)));
}

export function renderPackages(main, ctx) {
  const outcome = el("div", { class: "outcome", "aria-live": "polite" });
  const list = el("div", { class: "package-list" });
  let closed = false;

  async function load() {
    const reply = await ctx.api.get("/packages");
    if (closed) return;
    if (!reply.ok) {
      clear(list, errorBox(reply, "Listing packages"));
      return;
    }
    const versions = reply.body.packages;
    if (!versions.length) {
      clear(list, el("p", { class: "empty" }, "No package version is loaded."));
      return;
    }
    clear(list, el("table", { class: "grid", "aria-label": "Package versions" },
      el("caption", {}, "Loaded versions (packages are shared by every namespace)"),
      el("thead", {}, el("tr", {}, ["Version", "Package", "Deployed", "Workflow types",
        "Routed here", "Pinned runs", "Actions"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, versions.map((info) => versionRow(ctx, info, outcome, load)))));
  }

  clear(main, el("div", { class: "page-head" }, el("h1", {}, "Packages")),
    deployForm(ctx, outcome, load), outcome, list);
  load();
  return () => {
    closed = true;
  };
}
