// Executions: the list with state, namespace and flow filters, refreshed live
// by polling, with a selection for bulk actions; executionTable is also the flow
// page's Executions tab.
import { call } from "./api.js";
import { bulkSelection } from "./bulk.js";
import { badge, clear, duration, every, executionHref, flowHref, h, link, STATES, when } from "./dom.js";
import { pager } from "./flows.js";

const SIZE = 25;
const REFRESH_MS = 2000;

function elapsed(e) {
  const start = e.state.startDate || (e.state.histories[0] || {}).date;
  if (!start) return null;
  const end = e.state.endDate ? new Date(e.state.endDate) : new Date();
  return end - new Date(start);
}

// The search's filters for the list's choices (also what a bulk action by query takes).
function searchFilters(fixed, chosen) {
  const params = {};
  if (fixed.namespace) params["filters[namespace][EQUALS]"] = fixed.namespace;
  else if (chosen.namespace) params["filters[namespace][PREFIX]"] = chosen.namespace;
  if (fixed.flowId) params["filters[flowId][EQUALS]"] = fixed.flowId;
  else if (chosen.flowId) params["filters[flowId][CONTAINS]"] = chosen.flowId;
  if (chosen.state) params["filters[state][IN]"] = chosen.state;
  if (chosen.timeRange) params["filters[timeRange][EQUALS]"] = chosen.timeRange;
  return params;
}

// Fills `holder` with a live table of executions; returns the stop. With
// `selectable`, rows have checkboxes and a bar of bulk actions above.
export function executionTable(holder, fixed = {}, filters = () => ({}), { selectable = false } = {}) {
  const body = h("tbody");
  const footer = h("div", { class: "pager" });
  const state = { page: 1 };
  const showFlow = !fixed.flowId;
  const table = h("table", { class: "list", id: "executions" });
  const bar = h("div", { class: "toolbar bulk", id: "bulk" });
  const current = () => searchFilters(fixed, { ...filters(), ...fixed });
  const selection = selectable ? bulkSelection(bar, table, { filters: current, done: () => load() }) : null;
  const columns = ["Id", showFlow ? "Flow" : null, "State", "Started", "Duration", "Labels"].filter(Boolean);
  table.append(h("thead", {}, h("tr", {}, selection ? selection.header : null, columns.map((t) => h("th", { text: t })))), body);
  holder.append(selection ? bar : null, table, footer);
  let seq = 0;
  async function load() {
    // Only the latest request draws (a poll and a filter change may cross).
    const mine = ++seq;
    const params = { page: state.page, size: SIZE, ...current() };
    const answer = await call("/executions/search", { params });
    if (mine !== seq) return;
    clear(body);
    for (const e of answer.results) {
      body.append(h("tr", { "data-execution": e.id, "data-state": e.state.current },
        selection ? selection.cell(e.id) : null,
        h("td", { class: "mono" }, link(executionHref(e.id), e.id)),
        showFlow ? h("td", {}, link(flowHref(e.namespace, e.flowId), `${e.namespace}.${e.flowId}`)) : null,
        h("td", {}, badge(e.state.current)),
        h("td", { text: when(e.state.startDate) }),
        h("td", { text: duration(elapsed(e)) }),
        h("td", {}, (e.labels || []).map((l) => h("span", { class: "label", text: `${l.key}:${l.value}` }))),
      ));
    }
    if (!answer.results.length) body.append(h("tr", {}, h("td", { colspan: columns.length + 1, class: "muted", text: "No execution matches." })));
    if (selection) selection.loaded(answer.results.map((e) => e.id), answer.total);
    pager(footer, state, answer.total, SIZE, load);
  }
  const stop = every(REFRESH_MS, load);
  return Object.assign(stop, { reload: () => {
    state.page = 1;
    if (selection) selection.reset();
    return load();
  } });
}

export function render(main, { query }) {
  const stateSelect = h("select", { id: "filter-state" }, h("option", { value: "", text: "Any state" }),
    STATES.map((s) => h("option", { value: s, text: s, selected: s === query.get("state") })));
  const namespace = h("input", { type: "search", id: "filter-namespace", placeholder: "Namespace", value: query.get("namespace") || "" });
  const flow = h("input", { type: "search", id: "filter-flow", placeholder: "Flow id", value: query.get("flowId") || "" });
  const range = h("select", { id: "filter-time" },
    [["", "Any time"], ["PT1H", "Last hour"], ["PT24H", "Last 24 hours"], ["P7D", "Last 7 days"], ["P30D", "Last 30 days"]].map(([v, t]) => h("option", { value: v, text: t, selected: v === (query.get("timeRange") || "") })));
  const live = h("label", { class: "live" }, h("input", { type: "checkbox", id: "live", checked: true }), " live");
  const holder = h("div");
  main.append(h("div", { class: "title" }, h("h1", { text: "Executions" })), h("div", { class: "filters" }, stateSelect, namespace, flow, range, live), holder);
  const current = () => ({ state: stateSelect.value, namespace: namespace.value.trim(), flowId: flow.value.trim(), timeRange: range.value });
  let stop = executionTable(holder, {}, current, { selectable: true });
  const refilter = () => {
    const url = new URL(location.href);
    url.search = new URLSearchParams(Object.entries(current()).filter(([, v]) => v)).toString();
    history.replaceState(null, "", url);
    stop.reload();
  };
  let debounce = null;
  for (const el of [namespace, flow]) el.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(refilter, 250); });
  stateSelect.addEventListener("change", refilter);
  range.addEventListener("change", refilter);
  live.querySelector("input").addEventListener("change", (event) => {
    // Off: the table stays as it is; on: polling again.
    stop();
    clear(holder);
    stop = executionTable(holder, {}, current, { selectable: true });
    if (!event.target.checked) stop();
  });
  return () => {
    clearTimeout(debounce);
    stop();
  };
}
