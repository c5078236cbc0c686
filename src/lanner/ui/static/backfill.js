// Backfill a Schedule (Kestra's "Backfill executions"): a start and an end date
// (the end defaults to now) and inputs over the trigger's own, sent to
// `PUT /triggers/backfill/create`. The API creates the execution of every date
// at once, so there is nothing to pause; the panel then follows those
// executions (one search by id, every second) until all have ended.
import { call } from "./api.js";
import { badge, clear, every, executionHref, h, link, notify, terminated, when } from "./dom.js";

const REFRESH_MS = 1000;
const CHUNK = 100; // ids per search request

// A datetime-local field's value (the browser's time zone) as an ISO date-time.
const isoOf = (value) => (value ? new Date(value).toISOString() : null);

export function backfillPanel(holder, ids, trigger) {
  const stops = [];
  const name = `${ids.namespace}.${ids.flowId}.${ids.triggerId}`;
  const start = h("input", { type: "datetime-local", id: "backfill-start", step: 1, required: true });
  const end = h("input", { type: "datetime-local", id: "backfill-end", step: 1 });
  const own = trigger && trigger.inputs ? JSON.stringify(trigger.inputs) : "";
  const inputs = h("textarea", { id: "backfill-inputs", rows: 3, placeholder: own ? `the trigger's: ${own}` : '{"input": "value"}' });
  const submit = h("button", { type: "submit", class: "primary", id: "backfill-submit", text: "Backfill executions" });
  const progress = h("div", { id: "backfill-progress" });
  const form = h("form", { class: "start-form", id: "backfill-form" },
    h("label", { class: "field" }, h("span", { class: "field-name" }, "Start", h("span", { class: "required", text: " *" })), start),
    h("label", { class: "field" }, h("span", { class: "field-name", text: "End" }), end, h("span", { class: "muted small", text: "Empty: now. Dates in your browser's time zone." })),
    h("label", { class: "field" }, h("span", { class: "field-name", text: "Inputs" }), inputs,
      h("span", { class: "muted small", text: "A JSON object, over the trigger's own inputs (optional)." })),
    h("div", { class: "toolbar" }, submit, h("button", { type: "button", id: "backfill-close", onclick: () => close() }, "Close")));
  const panel = h("section", { class: "panel backfill", id: "backfill", "data-trigger": name },
    h("h2", { text: `Backfill executions of ${name}` }), form, progress);
  clear(holder).append(panel);
  panel.scrollIntoView({ block: "nearest" });

  function close() {
    while (stops.length) stops.pop()();
    clear(holder);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let given = null;
    if (inputs.value.trim()) {
      try {
        given = JSON.parse(inputs.value);
      } catch (err) {
        notify(`Inputs: not JSON (${err.message})`);
        return;
      }
    }
    submit.disabled = true;
    try {
      const answer = await call("/triggers/backfill/create", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...ids, backfill: { start: isoOf(start.value), end: isoOf(end.value), inputs: given } }),
      });
      const warnings = answer.backfillWarnings || [];
      notify(`Backfill: ${answer.backfillExecutions.length} execution(s) created${warnings.length ? `; ${warnings.length} date(s) not: ${warnings[0]}` : ""}`, warnings.length ? "error" : "info");
      while (stops.length) stops.pop()();
      stops.push(follow(progress, answer));
    } catch (err) {
      notify(err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return close;
}

// The backfill's executions: how many have ended, per state, and each one.
function follow(progress, answer) {
  const ids = answer.backfillExecutions;
  const bf = answer.backfill;
  const bar = h("div", { class: "progress-bar" });
  const counts = h("span", { class: "muted", id: "backfill-counts" });
  const list = h("table", { class: "list", id: "backfill-executions" });
  const warnings = answer.backfillWarnings || [];
  clear(progress).append(
    h("p", { text: `${ids.length} date(s) from ${when(bf.start)} to ${when(bf.end)}` }),
    warnings.length ? h("ul", { class: "problems", id: "backfill-warnings" }, warnings.map((w) => h("li", { text: w }))) : null,
    h("div", { class: "progress" }, bar), counts, list);
  if (!ids.length) return () => {};
  let stop = () => {};
  stop = every(REFRESH_MS, async () => {
    const found = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const page = await call("/executions/search", { params: { "filters[id][IN]": chunk.join(","), size: CHUNK } });
      found.push(...page.results);
    }
    const dateOf = (e) => (e.trigger && (e.trigger.date || (e.trigger.variables || {}).date)) || "";
    found.sort((a, b) => dateOf(a).localeCompare(dateOf(b)));
    const ended = found.filter((e) => terminated(e.state.current)).length;
    const states = {};
    for (const e of found) states[e.state.current] = (states[e.state.current] || 0) + 1;
    bar.style.width = `${(ended / ids.length) * 100}%`;
    counts.textContent = `${ended} of ${ids.length} ended — ${Object.entries(states).map(([s, n]) => `${s} ${n}`).join(", ")}`;
    progress.dataset.ended = String(ended);
    clear(list).append(h("thead", {}, h("tr", {}, ["Date", "Execution", "State"].map((t) => h("th", { text: t })))),
      h("tbody", {}, found.map((e) => h("tr", { "data-execution": e.id, "data-date": dateOf(e) },
        h("td", { text: when(dateOf(e)) }), h("td", {}, link(executionHref(e.id), e.id, { class: "mono" })), h("td", {}, badge(e.state.current))))));
    if (ended === ids.length) stop();
  });
  return () => stop();
}
