// Backfill a Schedule (Kestra's "Backfill executions"): a start and an end date
// (the end defaults to now), inputs over the trigger's own and labels, sent to
// `PUT /triggers/backfill/create`. The backfill is state on the trigger that the
// server walks a few dates per second; the panel reads that state every second
// (so a reload, or another browser, shows the same progress), offers Pause,
// Resume and Delete, and lists the backfill's executions.
import { call } from "./api.js";
import { append, badge, clear, every, executionHref, h, link, notify, terminated, when } from "./dom.js";

const REFRESH_MS = 1000;
const LISTED = 100; // executions listed at most

// A datetime-local field's value (the browser's time zone) as an ISO date-time.
const isoOf = (value) => (value ? new Date(value).toISOString() : null);

// "key=value" lines as Kestra's list of labels.
function labelsOf(text) {
  const labels = [];
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`Labels: "${line}" is not key=value`);
    labels.push({ key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() });
  }
  return labels.length ? labels : null;
}

const send = (path, method, body) =>
  call(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

// How far a backfill is, 0..1, by its current date within its window.
export function backfillShare(bf) {
  const start = Date.parse(bf.start);
  const span = Date.parse(bf.end) - start;
  if (!(span > 0)) return 0;
  return Math.min(1, Math.max(0, (Date.parse(bf.currentDate) - start) / span));
}

export function backfillPanel(holder, ids, trigger) {
  const stops = [];
  const name = `${ids.namespace}.${ids.flowId}.${ids.triggerId}`;
  const start = h("input", { type: "datetime-local", id: "backfill-start", step: 1, required: true });
  const end = h("input", { type: "datetime-local", id: "backfill-end", step: 1 });
  const own = trigger && trigger.inputs ? JSON.stringify(trigger.inputs) : "";
  const inputs = h("textarea", { id: "backfill-inputs", rows: 3, placeholder: own ? `the trigger's: ${own}` : '{"input": "value"}' });
  const labels = h("textarea", { id: "backfill-labels", rows: 2, placeholder: "key=value, one a line" });
  const submit = h("button", { type: "submit", class: "primary", id: "backfill-submit", text: "Backfill executions" });
  const progress = h("div", { id: "backfill-progress" });
  const form = h("form", { class: "start-form", id: "backfill-form" },
    h("label", { class: "field" }, h("span", { class: "field-name" }, "Start", h("span", { class: "required", text: " *" })), start),
    h("label", { class: "field" }, h("span", { class: "field-name", text: "End" }), end, h("span", { class: "muted small", text: "Empty: now. Dates in your browser's time zone." })),
    h("label", { class: "field" }, h("span", { class: "field-name", text: "Inputs" }), inputs,
      h("span", { class: "muted small", text: "A JSON object, over the trigger's own inputs (optional)." })),
    h("label", { class: "field" }, h("span", { class: "field-name", text: "Labels" }), labels,
      h("span", { class: "muted small", text: "Added to each execution (optional)." })),
    h("div", { class: "toolbar" }, submit, h("button", { type: "button", id: "backfill-close", onclick: () => close() }, "Close")));
  const panel = h("section", { class: "panel backfill", id: "backfill", "data-trigger": name },
    h("h2", { text: `Backfill executions of ${name}` }), form, progress);
  clear(holder).append(panel);
  panel.scrollIntoView({ block: "nearest" });

  function close() {
    while (stops.length) stops.pop()();
    clear(holder);
  }

  const view = follow(progress, ids);
  stops.push(view.stop);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let given = null;
    let tags = null;
    try {
      if (inputs.value.trim()) given = JSON.parse(inputs.value);
      tags = labelsOf(labels.value);
    } catch (err) {
      notify(err instanceof SyntaxError ? `Inputs: not JSON (${err.message})` : err.message);
      return;
    }
    submit.disabled = true;
    try {
      const answer = await send("/triggers/backfill/create", "PUT",
        { ...ids, backfill: { start: isoOf(start.value), end: isoOf(end.value), inputs: given, labels: tags } });
      notify(`Backfill started: ${when(answer.backfill.start)} to ${when(answer.backfill.end)}`, "info");
      await view.refresh();
    } catch (err) {
      notify(err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return close;
}

// The trigger's backfill as the server holds it: its progress, Pause/Resume and
// Delete, its warnings, and its executions; the last finished one once it ended.
function follow(progress, ids) {
  const params = {
    "filters[namespace][EQUALS]": ids.namespace,
    "filters[flowId][EQUALS]": ids.flowId,
    "filters[triggerId][EQUALS]": ids.triggerId,
  };
  const act = async (path, method, label) => {
    try {
      await send(path, method, ids);
      notify(`Backfill ${label}`, "info");
      await refresh();
    } catch (err) {
      notify(err.message);
    }
  };

  async function refresh() {
    const found = await call("/triggers/search", { params });
    const state = found.results.length ? found.results[0].state : null;
    const bf = state && state.backfill;
    const last = state && state.lastBackfill;
    const shown = bf || last;
    if (!shown) {
      clear(progress).append(h("p", { class: "muted", id: "backfill-status", text: "No backfill." }));
      return;
    }
    const status = bf ? (bf.paused ? "Paused" : "Running") : "Done";
    const share = bf ? backfillShare(bf) : 1;
    const bar = h("div", { class: "progress-bar", style: { width: `${share * 100}%` } });
    const executions = await listed(ids, shown);
    const ended = executions.filter((e) => terminated(e.state.current)).length;
    const states = {};
    for (const e of executions) states[e.state.current] = (states[e.state.current] || 0) + 1;
    const warnings = shown.warnings || [];
    append(clear(progress), [
      h("p", {},
        h("strong", { id: "backfill-status", text: status }),
        ` — ${when(shown.start)} to ${when(shown.end)}`,
        bf ? `, at ${when(bf.currentDate)} (${Math.round(share * 100)}%)` : `, ended ${when(last.endedAt)}`),
      bf ? h("div", { class: "toolbar" },
        bf.paused
          ? h("button", { id: "backfill-resume", onclick: () => act("/triggers/backfill/unpause", "PUT", "resumed") }, "Resume")
          : h("button", { id: "backfill-pause", onclick: () => act("/triggers/backfill/pause", "PUT", "paused") }, "Pause"),
        h("button", { id: "backfill-delete", class: "danger", onclick: () => act("/triggers/backfill/delete", "POST", "deleted") }, "Delete"))
        : null,
      h("div", { class: "progress" }, bar),
      h("span", { class: "muted", id: "backfill-counts",
        text: `${shown.created} execution(s) created; ${ended} of ${shown.created} ended — ${Object.entries(states).map(([s, n]) => `${s} ${n}`).join(", ")}` }),
      warnings.length ? h("ul", { class: "problems", id: "backfill-warnings" }, warnings.map((w) => h("li", { text: w }))) : null,
      table(executions)]);
    progress.dataset.status = status.toLowerCase();
    progress.dataset.created = String(shown.created);
  }

  let stop = () => {};
  stop = every(REFRESH_MS, refresh);
  return { stop: () => stop(), refresh };
}

// The backfill's executions: the flow's executions created since it was asked for
// whose trigger is this one and whose date is in its window, by date.
async function listed(ids, bf) {
  const params = { "filters[namespace][EQUALS]": ids.namespace, "filters[flowId][EQUALS]": ids.flowId, size: LISTED };
  if (bf.createdAt) params["filters[startDate][GREATER_THAN_OR_EQUAL_TO]"] = bf.createdAt;
  const page = await call("/executions/search", { params });
  const first = Date.parse(bf.start);
  const last = Date.parse(bf.end);
  const dateOf = (e) => (e.trigger && (e.trigger.date || (e.trigger.variables || {}).date)) || "";
  return page.results
    .filter((e) => e.trigger && e.trigger.id === ids.triggerId)
    .filter((e) => { const d = Date.parse(dateOf(e)); return d >= first && d <= last; })
    .sort((a, b) => dateOf(a).localeCompare(dateOf(b)));
}

function table(executions) {
  const dateOf = (e) => (e.trigger && (e.trigger.date || (e.trigger.variables || {}).date)) || "";
  return h("table", { class: "list", id: "backfill-executions" },
    h("thead", {}, h("tr", {}, ["Date", "Execution", "State"].map((t) => h("th", { text: t })))),
    h("tbody", {}, executions.map((e) => h("tr", { "data-execution": e.id, "data-date": dateOf(e) },
      h("td", { text: when(dateOf(e)) }), h("td", {}, link(executionHref(e.id), e.id, { class: "mono" })), h("td", {}, badge(e.state.current))))));
}
