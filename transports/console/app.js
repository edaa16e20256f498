// The console shell: routes (#/workflows, #/workflow/ID, #/schedules, #/packages, #/workers,
// #/cluster, #/health), the namespace selector limited to the caller's grant, and the settings button.

import { Api } from "./api.js";
import { clear, el, tickRelativeTimes } from "./dom.js";
import { renderHealth } from "./health.js";
import { renderPackages } from "./packages.js";
import { renderSchedules } from "./schedules.js";
import { identityText, openSettings } from "./settings_panel.js";
import { grantOf, loadSettings, pickNamespace, saveNamespace, savedNamespace } from "./settings.js";
import { renderWorkers } from "./workers.js";
import { renderCluster } from "./cluster.js";
import { renderWorkflow } from "./workflow.js";
import { renderWorkflows } from "./workflows.js";

const main = document.getElementById("main");
const namespaceSlot = document.getElementById("namespace-slot");
const identity = document.getElementById("identity");
let settings = loadSettings();
let api = new Api(settings);
let namespace = "";
let cleanup = null;

function parseRoute() {
  const hash = location.hash.startsWith("#/") ? location.hash.slice(2) : "workflows";
  const [path, query = ""] = hash.split("?");
  const params = Object.fromEntries(new URLSearchParams(query));
  const [view, ...rest] = path.split("/");
  return { view: view || "workflows", arg: rest.length ? decodeURIComponent(rest.join("/")) : "",
    params };
}

function navigate(view, params = {}) {
  const query = new URLSearchParams(
    Object.entries(params).filter(([, value]) => value !== undefined && value !== ""),
  ).toString();
  location.hash = `#/${view}${query ? `?${query}` : ""}`;
}

function namespaceControl(grant) {
  if (grant.all) {
    const input = el("input", { id: "namespace", name: "namespace", list: "namespace-options",
      autocomplete: "off", spellcheck: "false", class: "mono" });
    input.value = namespace;
    input.addEventListener("change", () => setNamespace(input.value.trim() || "default"));
    return [el("label", { for: "namespace" }, "Namespace"), input,
      el("datalist", { id: "namespace-options" }, el("option", { value: "default" }))];
  }
  const select = el("select", { id: "namespace", name: "namespace", disabled: !grant.namespaces.length },
    grant.namespaces.length
      ? grant.namespaces.map((name) => el("option", { value: name, selected: name === namespace }, name))
      : el("option", { value: "" }, "no namespace granted"));
  select.addEventListener("change", () => setNamespace(select.value));
  return [el("label", { for: "namespace" }, "Namespace"), select];
}

function setNamespace(next) {
  namespace = next;
  saveNamespace(next);
  const route = parseRoute();
  if (route.view === "workflow") navigate("workflows"); // a workflow belongs to one namespace
  else render();
}

function shell() {
  const grant = grantOf(settings);
  namespace = pickNamespace(grant, savedNamespace());
  clear(namespaceSlot, namespaceControl(grant));
  identity.textContent = identityText(settings);
}

function render() {
  cleanup?.();
  cleanup = null;
  const route = parseRoute();
  for (const link of document.querySelectorAll("nav.main-nav a")) {
    const target = link.getAttribute("href").slice(2);
    const current = target === route.view || (target === "workflows" && route.view === "workflow");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!namespace) {
    clear(main, el("div", { class: "notice error", role: "alert" },
      el("strong", {}, "No namespace granted. "),
      "Open Settings to enter a subject and namespaces, or a token that grants one."));
    return;
  }
  const ctx = { api, namespace, navigate };
  if (route.view === "workflow" && route.arg) {
    cleanup = renderWorkflow(main, ctx, route.arg, route.params.run || "");
  }
  else if (route.view === "schedules") cleanup = renderSchedules(main, ctx);
  else if (route.view === "health") cleanup = renderHealth(main, ctx);
  else if (route.view === "packages") cleanup = renderPackages(main, ctx);
  else if (route.view === "workers") cleanup = renderWorkers(main, ctx);
  else if (route.view === "cluster") cleanup = renderCluster(main, ctx);
  else cleanup = renderWorkflows(main, ctx, route.params);
}

document.getElementById("settings-button").addEventListener("click", async () => {
  const saved = await openSettings(settings);
  if (!saved) return;
  settings = saved;
  api = new Api(settings);
  shell();
  render();
});

window.addEventListener("hashchange", () => {
  if (!location.hash.startsWith("#/")) return; // e.g. the skip link
  render();
  main.focus({ preventScroll: true });
});
setInterval(() => tickRelativeTimes(), 15000);
shell();
render();
