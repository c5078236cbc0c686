// A small dashboard over the latest executions of a time window: executions
// per state over time, the failure rate, and the slowest flows.
import { call } from "./api.js";
import { append, badge, clear, duration, every, flowHref, h, link, when } from "./dom.js";

const WINDOWS = { PT1H: ["last hour", 5 * 60e3], PT24H: ["last 24 hours", 3600e3], P7D: ["last 7 days", 6 * 3600e3] };
const SPANS = { PT1H: 3600e3, PT24H: 24 * 3600e3, P7D: 7 * 24 * 3600e3 };
const SHOWN = ["SUCCESS", "WARNING", "FAILED", "KILLED", "RUNNING", "PAUSED", "CREATED"];
const REFRESH_MS = 10_000;
const SAMPLE = 1000;

const endOf = (e) => (e.state.endDate ? new Date(e.state.endDate).getTime() : null);
const startOf = (e) => new Date(e.state.startDate || (e.state.histories[0] || {}).date).getTime();

function bucketState(state) {
  return SHOWN.includes(state) ? state : ["KILLING", "CANCELLED"].includes(state) ? "KILLED" : ["QUEUED", "RESTARTED", "SUBMITTED"].includes(state) ? "CREATED" : "RUNNING";
}

function chart(results, windowKey, now) {
  const [, step] = WINDOWS[windowKey];
  const span = SPANS[windowKey];
  const count = Math.round(span / step);
  const first = now - span;
  const buckets = Array.from({ length: count }, () => ({}));
  for (const e of results) {
    const i = Math.min(count - 1, Math.floor((startOf(e) - first) / step));
    if (i < 0) continue;
    const s = bucketState(e.state.current);
    buckets[i][s] = (buckets[i][s] || 0) + 1;
  }
  const most = Math.max(1, ...buckets.map((b) => Object.values(b).reduce((a, n) => a + n, 0)));
  return h("div", { class: "chart", id: "chart" }, buckets.map((b, i) => {
    const at = new Date(first + i * step);
    const total = Object.values(b).reduce((a, n) => a + n, 0);
    const title = `${at.toLocaleString()}: ${total} execution${total === 1 ? "" : "s"}` + SHOWN.filter((s) => b[s]).map((s) => `\n${s}: ${b[s]}`).join("");
    return h("div", { class: "chart-col", title },
      SHOWN.filter((s) => b[s]).map((s) => h("div", { class: `state-bg-${s.toLowerCase()}`, style: { height: `${(b[s] / most) * 100}%` } })));
  }));
}

export function render(main, { query }) {
  const choice = h("select", { id: "dashboard-window" }, Object.entries(WINDOWS).map(([k, [label]]) => h("option", { value: k, text: label, selected: k === (query.get("window") || "PT24H") })));
  const body = h("div", { class: "dashboard" });
  main.append(h("div", { class: "title" }, h("h1", { text: "Dashboard" }), choice), body);

  async function load() {
    const windowKey = choice.value;
    const answer = await call("/executions/search", { params: { size: SAMPLE, "filters[timeRange][EQUALS]": windowKey } });
    const now = Date.now();
    const results = answer.results;
    const ended = results.filter((e) => endOf(e) !== null);
    const failed = ended.filter((e) => e.state.current === "FAILED").length;
    const perState = {};
    for (const e of results) perState[e.state.current] = (perState[e.state.current] || 0) + 1;
    const flows = new Map();
    for (const e of ended) {
      const key = `${e.namespace}.${e.flowId}`;
      const took = endOf(e) - startOf(e);
      const f = flows.get(key) || { namespace: e.namespace, flowId: e.flowId, count: 0, sum: 0, max: 0 };
      f.count += 1;
      f.sum += took;
      f.max = Math.max(f.max, took);
      flows.set(key, f);
    }
    const slowest = [...flows.values()].sort((a, b) => b.sum / b.count - a.sum / a.count).slice(0, 5);
    append(clear(body), [
      h("div", { class: "cards" },
        h("div", { class: "card" }, h("div", { class: "card-number", id: "executions-count", text: answer.total }), h("div", { class: "muted", text: "executions" })),
        h("div", { class: "card" }, h("div", { class: "card-number", id: "failure-rate", text: ended.length ? `${Math.round((failed / ended.length) * 100)}%` : "–" }), h("div", { class: "muted", text: `failed (${failed} of ${ended.length} ended)` })),
        h("div", { class: "card" }, Object.entries(perState).map(([s, n]) => h("div", {}, badge(s), ` ${n}`)))),
      answer.total > results.length ? h("p", { class: "muted small", text: `Figures from the latest ${results.length} of ${answer.total} executions.` }) : null,
      h("h2", { text: "Executions per state" }), chart(results, windowKey, now),
      h("div", { class: "chart-axis muted small" }, h("span", { text: when(new Date(now - SPANS[windowKey]).toISOString()) }), h("span", { text: "now" })),
      h("h2", { text: "Slowest flows" }),
      h("table", { class: "list", id: "slowest" },
        h("thead", {}, h("tr", {}, ["Flow", "Ended executions", "Mean duration", "Longest"].map((t) => h("th", { text: t })))),
        h("tbody", {}, slowest.length ? slowest.map((f) => h("tr", {},
          h("td", {}, link(flowHref(f.namespace, f.flowId), `${f.namespace}.${f.flowId}`)),
          h("td", { text: f.count }), h("td", { text: duration(f.sum / f.count) }), h("td", { text: duration(f.max) })))
          : h("tr", {}, h("td", { colspan: 4, class: "muted", text: "No ended execution in this window." })))),
    ]);
  }
  let stop = every(REFRESH_MS, load);
  choice.addEventListener("change", () => {
    const url = new URL(location.href);
    url.searchParams.set("window", choice.value);
    history.replaceState(null, "", url);
    stop();
    stop = every(REFRESH_MS, load);
  });
  return () => stop();
}
