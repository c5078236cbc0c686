// An execution: its state and actions (kill, pause, resume, restart, replay, set
// labels), the task runs on a timeline (one bar per task run, one segment per
// attempt; once ended, each can be replayed from), inputs and outputs, and its
// logs filtered by task and level. Followed live through the API's server-sent
// events (`/executions/{id}/follow`) while it runs; polled for a while after an
// action on an ended execution (whose stream would not show the effect yet).
import { API, call } from "./api.js";
import { outputJson } from "./files.js";
import { inputsForm } from "./inputs.js";
import { labelsDialog } from "./labels.js";
import { replayDialog } from "./replay.js";
import { append, badge, clear, duration, every, flowHref, h, link, notify, terminated, when } from "./dom.js";

const REFRESH_MS = 1000;
// Logs are read again at most this often while the followed execution changes.
const LOGS_MS = 500;
const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

// An execution that ended at least this long ago writes no more log lines.
const ENDED_MS = 2000;

const ms = (iso) => (iso ? new Date(iso).getTime() : null);

function span(histories, current, now) {
  const start = histories.length ? ms(histories[0].date) : null;
  const end = terminated(current) && histories.length ? ms(histories[histories.length - 1].date) : now;
  return [start, end];
}

function endedBefore(execution, ago) {
  const histories = execution.state.histories || [];
  if (!terminated(execution.state.current) || !histories.length) return false;
  return Date.now() - ms(histories[histories.length - 1].date) >= ago;
}

// One row of the timeline, cloned from a built one: a wide execution has 1,000.
let rowTemplate = null;
function ganttRow(r, attempts, depth, label, bar, took, replayable) {
  rowTemplate ||= h("div", { class: "gantt-row" },
    h("div", { class: "gantt-name", title: "", "data-show-logs": "" }),
    h("div", { class: "gantt-state" }, badge("")),
    h("div", { class: "gantt-track" }),
    h("div", { class: "gantt-duration muted small" }),
    h("div", { class: "gantt-replay" }));
  const row = rowTemplate.cloneNode(true);
  row.setAttribute("data-attempts", attempts);
  row.setAttribute("data-task-run", r.id);
  row.setAttribute("data-task", r.taskId);
  row.setAttribute("data-state", r.state.current);
  const [name, state, track, length, replay] = row.children;
  name.style.paddingLeft = `${depth * 14 + 4}px`;
  name.title = `${label}: click to show its logs`;
  name.textContent = label;
  name.setAttribute("data-show-logs", r.taskId);
  const stateBadge = state.firstChild;
  stateBadge.className = `state state-${r.state.current.toLowerCase()}`;
  stateBadge.textContent = r.state.current;
  if (attempts > 1) state.append(h("span", { class: "muted small", text: ` ×${attempts}` }));
  track.append(bar);
  length.textContent = took;
  if (replayable) replay.append(h("button", { class: "small", "data-replay": r.id, title: "Replay from this task run" }, "Replay"));
  return row;
}

function timeline(execution, now) {
  // An ended execution can be replayed from any of its task runs.
  const replayable = terminated(execution.state.current);
  const [start, end] = span(execution.state.histories, execution.state.current, now);
  const total = Math.max(1, (end || now) - (start || now));
  const runs = execution.taskRunList || [];
  const depth = new Map();
  for (const r of runs) depth.set(r.id, r.parentTaskRunId ? (depth.get(r.parentTaskRunId) || 0) + 1 : 0);
  const rows = document.createDocumentFragment();
  for (const r of runs) {
    const [s, e] = span(r.state.histories, r.state.current, now);
    const left = s === null ? 0 : ((s - start) / total) * 100;
    const width = s === null ? 0 : Math.max(0.4, (((e || now) - s) / total) * 100);
    const bar = document.createElement("div");
    bar.className = `bar state-bg-${r.state.current.toLowerCase()}`;
    bar.style.left = `${left}%`;
    bar.style.width = `${width}%`;
    bar.title = `${r.taskId}: ${r.state.current}, ${duration((e || now) - (s || now))}`;
    const attempts = r.attempts || [];
    if (attempts.length > 1) {
      // Each attempt a segment of the bar, its width its share of the run.
      const runStart = s;
      const runTotal = Math.max(1, (e || now) - s);
      for (const [i, a] of attempts.entries()) {
        const [as, ae] = span(a.state.histories, a.state.current, now);
        if (as === null) continue;
        bar.append(h("span", { class: `attempt state-bg-${a.state.current.toLowerCase()}`, title: `attempt ${i + 1}: ${a.state.current}`,
          style: { left: `${((as - runStart) / runTotal) * 100}%`, width: `${Math.max(1, (((ae || now) - as) / runTotal) * 100)}%` } }));
      }
    }
    const label = r.value !== null && r.value !== undefined ? `${r.taskId} [${r.value}]` : r.taskId;
    rows.append(ganttRow(r, attempts.length, depth.get(r.id) || 0, label, bar, s === null ? "" : duration((e || now) - s), replayable));
  }
  return h("div", { class: "gantt", id: "gantt" }, rows.childNodes.length ? rows : h("p", { class: "muted", text: "No task run yet." }));
}

function outputs(execution) {
  const blocks = [];
  const id = execution.id;
  const json = (value, attrs = {}) => {
    const box = h("div", { class: "file-preview" });
    return [outputJson(value, id, box, attrs), box];
  };
  if (execution.inputs && Object.keys(execution.inputs).length) blocks.push(h("h3", { text: "Inputs" }), ...json(execution.inputs, { id: "inputs" }));
  if (execution.outputs && Object.keys(execution.outputs).length) blocks.push(h("h3", { text: "Flow outputs" }), ...json(execution.outputs, { id: "flow-outputs" }));
  const withOutputs = (execution.taskRunList || []).filter((r) => r.outputs && Object.keys(r.outputs).length);
  if (withOutputs.length) {
    blocks.push(h("h3", { text: "Task outputs" }));
    for (const r of withOutputs) {
      blocks.push(h("details", { open: withOutputs.length <= 5, "data-outputs": r.taskId }, h("summary", { text: r.value ? `${r.taskId} [${r.value}]` : r.taskId }), json(r.outputs)));
    }
  }
  return blocks.length ? blocks : [h("p", { class: "muted", text: "No inputs or outputs." })];
}

// The task of this id anywhere in the flow (tasks, errors, finally, children of flowables).
function findTask(node, id) {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findTask(item, id);
      if (found) return found;
    }
    return null;
  }
  if (!node || typeof node !== "object") return null;
  if (node.id === id && typeof node.type === "string") return node;
  for (const [key, value] of Object.entries(node)) {
    if (key === "inputs" || key === "source") continue;
    if (value && typeof value === "object") {
      const found = findTask(value, id);
      if (found) return found;
    }
  }
  return null;
}

export function render(main, { id }) {
  const header = h("div", { class: "title" });
  const actions = h("div", { class: "toolbar", id: "actions" });
  const resumeBox = h("div", { class: "resume", id: "resume-box" });
  const facts = h("dl", { class: "facts" });
  const gantt = h("section");
  const data = h("section", { class: "outputs" });
  const taskFilter = h("select", { id: "log-task" }, h("option", { value: "", text: "All tasks" }));
  const levelFilter = h("select", { id: "log-level" }, LEVELS.map((l) => h("option", { value: l, text: `${l} and above`, selected: l === "INFO" })));
  const logBox = h("div", { class: "logs", id: "logs" });
  main.append(header, actions, resumeBox, facts,
    h("h2", { text: "Timeline" }), gantt,
    h("h2", { text: "Logs" }), h("div", { class: "filters" }, taskFilter, levelFilter,
      h("a", { href: `${API}/logs/${encodeURIComponent(id)}/download`, id: "logs-download", download: `${id}.log`, class: "button" }, "Download")), logBox,
    h("h2", { text: "Inputs and outputs" }), data);

  let execution = null;
  let knownTasks = new Set();
  let finalLogs = false;
  let stopped = false;

  let drawnState = null;
  function drawActions() {
    const s = execution.state.current;
    // Redrawn only when the state changes: a poll must not wipe a form being filled.
    if (s === drawnState) return;
    drawnState = s;
    drawResume(s).catch((err) => notify(err.message));
    // After pause or resume the execution still runs: the stream follows it. After
    // kill or restart, poll (the stream of an ended execution ends at once).
    const act = (label, idName, run, enabled, kind = "", live = false) =>
      h("button", { id: idName, class: kind, disabled: !enabled, onclick: async () => {
        try {
          execution = await run();
          draw();
          notify(`${label}: asked`, "info");
          if (live) follow();
          else restart();
        } catch (err) {
          notify(err.message);
        }
      } }, label);
    const base = `/executions/${encodeURIComponent(execution.id)}`;
    clear(actions).append(
      act("Kill", "kill", () => call(`${base}/kill`, { method: "DELETE" }), !terminated(s) && s !== "KILLING", "danger"),
      act("Pause", "pause", () => call(`${base}/pause`, { method: "POST" }), s === "RUNNING" || s === "RETRYING", "", true),
      act("Resume", "resume", () => call(`${base}/resume`, { method: "POST" }), s === "PAUSED", "", true),
      act("Restart", "restart", () => call(`${base}/restart`, { method: "POST" }), s === "FAILED" || s === "KILLED"),
      h("button", { id: "replay", disabled: !terminated(s), title: "A new execution with the same inputs and labels",
        onclick: () => replayDialog(execution).catch((err) => notify(err.message)) }, "Replay"),
      h("button", { id: "set-labels", disabled: !terminated(s), title: terminated(s) ? "Add or change labels" : "Labels are set once the execution has ended",
        onclick: () => labelsDialog(execution, (updated) => {
          execution = updated;
          draw();
          notify("Labels: set", "info");
        }) }, "Set labels"),
    );
  }

  function draw() {
    const now = Date.now();
    const s = execution.state;
    clear(header).append(h("h1", { class: "mono", text: execution.id }), h("span", { id: "execution-state" }, badge(s.current)));
    const [start, end] = span(s.histories, s.current, now);
    append(clear(facts), [
      h("dt", { text: "Flow" }), h("dd", {}, link(flowHref(execution.namespace, execution.flowId), `${execution.namespace}.${execution.flowId}`), h("span", { class: "muted", text: ` revision ${execution.flowRevision}` })),
      h("dt", { text: "Started" }), h("dd", { text: when(s.startDate) }),
      h("dt", { text: "Duration" }), h("dd", { text: start === null ? "" : duration(end - start) }),
      h("dt", { text: "Labels" }), h("dd", {}, (execution.labels || []).map((l) => h("span", { class: "label", text: `${l.key}:${l.value}` }))),
      execution.parentId ? [h("dt", { text: "Parent" }), h("dd", {}, link(`/ui/executions/${encodeURIComponent(execution.parentId)}`, execution.parentId))] : null,
    ]);
    drawActions();
    clear(gantt).append(timeline(execution, now));
    clear(data).append(...outputs(execution));
    for (const r of execution.taskRunList || []) {
      if (!knownTasks.has(r.taskId)) {
        knownTasks.add(r.taskId);
        taskFilter.append(h("option", { value: r.taskId, text: r.taskId }));
      }
    }
  }

  let logSeq = 0;
  async function loadLogs() {
    // Only the latest request draws: a slow answer to an older filter is dropped.
    const mine = ++logSeq;
    const params = { minLevel: levelFilter.value };
    if (taskFilter.value) params.taskId = taskFilter.value;
    const entries = await call(`/logs/${encodeURIComponent(id)}`, { params });
    if (mine !== logSeq || stopped) return;
    const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 4;
    clear(logBox).append(...entries.map((e) => h("div", { class: `log level-${e.level.toLowerCase()}`, "data-level": e.level, "data-task": e.taskId || "" },
      h("span", { class: "log-time mono", text: when(e.timestamp) }), " ",
      h("span", { class: "log-level", text: e.level }), " ",
      h("span", { class: "log-task", text: e.taskId || "" }), " ",
      h("span", { class: "log-message", text: e.message }))));
    if (!entries.length) logBox.append(h("div", { class: "muted", text: "No log line." }));
    if (atBottom) logBox.scrollTop = logBox.scrollHeight;
  }

  // A PAUSED execution's Pause task may ask inputs on resume (`onResume`): the
  // form for them, from the task's declaration in the execution's revision.
  async function drawResume(s) {
    clear(resumeBox);
    if (s !== "PAUSED") return;
    const paused = (execution.taskRunList || []).find((r) => r.state.current === "PAUSED");
    if (!paused) {
      // Paused by a user (the Pause action), not by a Pause task.
      resumeBox.append(h("p", { class: "muted", id: "user-paused", text: "Paused by a user: the task runs already running go on; no other starts until it is resumed." }));
      return;
    }
    const flow = await call(`/flows/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}`, { params: { revision: execution.flowRevision } });
    const task = findTask(flow, paused.taskId);
    const asked = task && Array.isArray(task.onResume) ? task.onResume : [];
    if (!asked.length || drawnState !== "PAUSED") return;
    resumeBox.append(h("h2", { text: `Resume ${paused.taskId} with` }), inputsForm(asked, async (data) => {
      try {
        execution = await call(`/executions/${encodeURIComponent(execution.id)}/resume`, { method: "POST", body: data });
        draw();
        notify("Resume: asked", "info");
        restart();
      } catch (err) {
        notify(err.message);
      }
    }, { button: "Resume", id: "resume", labels: false }));
  }

  let stop = () => {};
  // Live: the execution each time it changes, then the finalized one; the logs
  // follow it (read again, throttled, with the page's filters). Falls back to
  // polling when the stream fails.
  function follow() {
    stop();
    const source = new EventSource(`${API}/executions/${encodeURIComponent(id)}/follow`);
    let logsTimer = null;
    let closed = false;
    const logsSoon = () => {
      if (logsTimer === null) logsTimer = setTimeout(() => {
        logsTimer = null;
        loadLogs().catch((err) => notify(err.message));
      }, LOGS_MS);
    };
    const close = () => {
      closed = true;
      source.close();
      if (logsTimer !== null) clearTimeout(logsTimer);
      logsTimer = null;
    };
    stop = close;
    source.onmessage = (message) => {
      if (stopped || closed || message.lastEventId === "start") return;
      execution = JSON.parse(message.data);
      draw();
      if (message.lastEventId === "end") {
        close();
        loadLogs().catch((err) => notify(err.message));
      } else logsSoon();
    };
    source.onerror = async () => {
      if (closed || stopped) return;
      close();
      // An unknown (or deleted) execution: say so once and stop asking.
      try {
        await call(`/executions/${encodeURIComponent(id)}`);
      } catch (err) {
        notify(err.message);
        if (err.status === 404) return;
      }
      if (!stopped) restart();
    };
  }
  function restart() {
    stop();
    finalLogs = false;
    stop = every(REFRESH_MS, async () => {
      // The execution and its logs in parallel: a long execution's page shows sooner.
      let fetched;
      try {
        [fetched] = await Promise.all([call(`/executions/${encodeURIComponent(id)}`), loadLogs()]);
      } catch (err) {
        // An execution that does not exist (or was deleted) will not come back: stop asking.
        if (err.status === 404) stop();
        throw err;
      }
      if (stopped) return;
      execution = fetched;
      draw();
      if (terminated(execution.state.current)) {
        // One more round once it ended: the last lines may land just after.
        if (finalLogs) stop();
        finalLogs = true;
      }
    });
  }
  // A task run's name in the timeline shows that task's logs; its Replay asks the revision.
  gantt.addEventListener("click", (event) => {
    const replay = event.target.closest("[data-replay]");
    if (replay) {
      const run = (execution.taskRunList || []).find((r) => r.id === replay.dataset.replay);
      if (run) replayDialog(execution, run).catch((err) => notify(err.message));
      return;
    }
    const name = event.target.closest("[data-show-logs]");
    if (!name) return;
    taskFilter.value = name.dataset.showLogs;
    loadLogs().catch((err) => notify(err.message));
    logBox.scrollIntoView({ block: "nearest" });
  });
  taskFilter.addEventListener("change", () => loadLogs().catch((err) => notify(err.message)));
  levelFilter.addEventListener("change", () => loadLogs().catch((err) => notify(err.message)));
  // The execution first (index.html's preload has asked it already, beside the
  // modules) and its logs at once: one that ended a while ago is drawn from them,
  // with no stream to open; any other is followed live.
  loadLogs().catch((err) => notify(err.message));
  call(`/executions/${encodeURIComponent(id)}`).then((fetched) => {
    if (stopped) return;
    execution = fetched;
    draw();
    if (!endedBefore(execution, ENDED_MS)) follow();
  }, (err) => {
    // An unknown (or deleted) execution: said once, not asked again.
    notify(err.message);
    if (err.status !== 404 && !stopped) follow();
  });
  return () => {
    stopped = true;
    stop();
  };
}
