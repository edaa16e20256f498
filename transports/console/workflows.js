// The workflows list: filters, count, paging, live refresh over a filtered stream subscription.

import {
  attributeChips, clear, el, errorBox, statusBadge, timeEl, workflowHref,
} from "./dom.js";

export const STATUSES = [
  "Running", "Completed", "Failed", "Cancelled", "TimedOut", "ContinuedAsNew", "Paused",
];
const VALUE_TYPES = ["String", "Int", "Float", "Bool", "Datetime", "KeywordList"];
const OPS = [
  ["equals", "equals"], ["contains", "contains (keyword list)"],
  ["greater_than", "greater than"], ["less_than", "less than"],
];
const PAGE_SIZE = 25;
const REFRESH_DEBOUNCE_MS = 250;

function toLocalInput(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return "";
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function fromLocalInput(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

function typedData(type, text) {
  switch (type) {
    case "Int": return Number.parseInt(text, 10);
    case "Float": return Number.parseFloat(text);
    case "Bool": return text.trim().toLowerCase() === "true";
    case "Datetime": return fromLocalInput(text) || text;
    case "KeywordList": return text.split(",").map((item) => item.trim()).filter(Boolean);
    default: return text;
  }
}

/** The search-attribute predicate of the filter, or null. */
export function predicateOf(filters) {
  if (!filters.sa_name || filters.sa_value === undefined || filters.sa_value === "") return null;
  if (filters.sa_op === "contains") {
    return { op: "contains", name: filters.sa_name, keyword: filters.sa_value };
  }
  const type = filters.sa_type || "String";
  return {
    op: filters.sa_op || "equals",
    name: filters.sa_name,
    value: { type, data: typedData(type, filters.sa_value) },
  };
}

function listParams(namespace, filters) {
  const predicate = predicateOf(filters);
  return {
    namespace,
    status: filters.status,
    workflow_type: filters.type,
    started_after: filters.after,
    started_before: filters.before,
    search_attributes: predicate ? JSON.stringify([predicate]) : undefined,
  };
}

function select(name, label, options, value) {
  const id = `filter-${name}`;
  return el(
    "div", { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, name },
      options.map(([optionValue, text]) =>
        el("option", { value: optionValue, selected: optionValue === (value || "") }, text))),
  );
}

function input(name, label, value, type = "text", extra = {}) {
  const id = `filter-${name}`;
  return el(
    "div", { class: "field" },
    el("label", { for: id }, label),
    el("input", { id, name, type, value: value || "", autocomplete: "off", ...extra }),
  );
}

function filterForm(filters, onApply) {
  const form = el(
    "form", { class: "filters", role: "search", "aria-label": "Filter workflows" },
    select("status", "Status", [["", "Any status"], ...STATUSES.map((s) => [s, s])],
      filters.status),
    input("type", "Workflow type", filters.type, "text", { placeholder: "e.g. checkout" }),
    input("after", "Started after", toLocalInput(filters.after), "datetime-local"),
    input("before", "Started before", toLocalInput(filters.before), "datetime-local"),
    el("fieldset", { class: "predicate" },
      el("legend", {}, "Search attribute"),
      input("sa_name", "Attribute name", filters.sa_name, "text", { placeholder: "customer" }),
      select("sa_op", "Match", OPS, filters.sa_op || "equals"),
      select("sa_type", "Type", VALUE_TYPES.map((t) => [t, t]), filters.sa_type || "String"),
      input("sa_value", "Attribute value", filters.sa_value)),
    el("div", { class: "filter-buttons" },
      el("button", { type: "submit", class: "button primary" }, "Apply filters"),
      el("button", { type: "reset", class: "button" }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    data.after = fromLocalInput(data.after);
    data.before = fromLocalInput(data.before);
    if (!data.sa_name) {
      delete data.sa_op; // no predicate: keep the address free of its defaults
      delete data.sa_type;
      delete data.sa_value;
    }
    onApply(data);
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    onApply({});
  });
  return form;
}

function row(summary) {
  return el(
    "tr", { dataset: { workflowId: summary.workflow_id } },
    el("td", {}, summary.failure_reason
      ? el("span", { title: summary.failure_reason }, statusBadge(summary.status))
      : statusBadge(summary.status)),
    el("td", {}, el("a", { href: workflowHref(summary.workflow_id), class: "mono id-link" },
      summary.workflow_id)),
    el("td", {}, summary.workflow_type),
    el("td", {}, timeEl(summary.started_at)),
    el("td", {}, timeEl(summary.ended_at)),
    el("td", {}, attributeChips(summary.search_attributes)),
  );
}

function table(workflows) {
  if (!workflows.length) {
    return el("p", { class: "empty" }, "No workflows match these filters.");
  }
  return el(
    "table", { class: "grid", "aria-label": "Workflows" },
    el("thead", {}, el("tr", {},
      ["Status", "Workflow ID", "Type", "Started", "Ended", "Search attributes"]
        .map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, workflows.map(row)),
  );
}

export function renderWorkflows(main, ctx, filters) {
  const count = el("span", { class: "count", "aria-live": "polite" });
  const live = el("span", { class: "live-indicator", dataset: { state: "connecting" } },
    "connecting");
  const results = el("div", { class: "results" });
  const pageLabel = el("span", { class: "muted" });
  const prev = el("button", { type: "button", class: "button", disabled: true }, "Previous page");
  const next = el("button", { type: "button", class: "button", disabled: true }, "Next page");
  clear(
    main,
    el("div", { class: "page-head" },
      el("h1", {}, "Workflows"), count, live),
    filterForm(filters, (data) => ctx.navigate("workflows", data)),
    results,
    el("nav", { class: "pager", "aria-label": "Pages" }, prev, pageLabel, next),
  );

  const params = listParams(ctx.namespace, filters);
  const tokens = [null]; // tokens[i] is the page_token of page i
  let page = 0;
  let nextToken = null;
  let loading = null;

  async function load() {
    const reply = await ctx.api.get("/workflows", {
      ...params, limit: PAGE_SIZE, page_token: tokens[page] ?? undefined,
    });
    if (!reply.ok) {
      clear(results, errorBox(reply, "Listing workflows"));
      return;
    }
    // The server scopes the list to the namespace; never show anything else if it did not.
    const workflows = reply.body.workflows.filter((w) => w.namespace === ctx.namespace);
    nextToken = reply.body.next_page_token;
    clear(results, table(workflows));
    prev.disabled = page === 0;
    next.disabled = !nextToken;
    pageLabel.textContent = `Page ${page + 1}`;
    const counted = await ctx.api.get("/workflows/count", params);
    count.textContent = counted.ok
      ? `${counted.body.count} workflow${counted.body.count === 1 ? "" : "s"}` : "";
  }

  function refresh() {
    if (loading) return;
    loading = setTimeout(() => {
      loading = null;
      load();
    }, REFRESH_DEBOUNCE_MS);
  }

  prev.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    load();
  });
  next.addEventListener("click", () => {
    if (!nextToken) return;
    page += 1;
    tokens[page] = nextToken;
    load();
  });

  load();
  const stream = ctx.api.stream(
    () => ({ filtered: {
      namespace: ctx.namespace,
      ...(filters.type ? { workflow_type: filters.type } : {}),
      ...(filters.status ? { status: filters.status } : {}),
    } }),
    {
      onEvent: (frame) => {
        if (frame.namespace === ctx.namespace) refresh();
      },
      onReconnect: refresh, // events missed while away are in the next list read
      onState: (state) => {
        live.dataset.state = state;
        live.textContent = { live: "live", connecting: "connecting…", ended: "ended",
          error: "stream refused" }[state] || state;
      },
      onError: (error) => {
        results.prepend(errorBox({ status: 0, body: error }, "Live updates"));
      },
    },
  );
  return () => {
    clearTimeout(loading);
    stream.close();
  };
}

