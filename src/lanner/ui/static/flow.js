// A flow: its YAML in the editor (validated as you type; saving makes a new
// revision), the start form from its typed inputs, its executions, and its
// revisions with a diff against the one before.
import { call, yaml } from "./api.js";
import { append, clear, executionHref, flowHref, go, h, notify, when } from "./dom.js";
import { suggest } from "./complete.js";
import { createEditor, diffLines, parseConstraints } from "./editor.js";
import { executionTable } from "./executions.js";
import { inputsForm } from "./inputs.js";
import { topology } from "./topology.js";
import { triggerTable } from "./triggers.js";

// The flow language's JSON Schema, fetched once per page load for completion.
let schemaPromise = null;
function flowSchema() {
  schemaPromise = schemaPromise || fetch("/ui/schema/flow.json").then((r) => (r.ok ? r.json() : null), () => null);
  return schemaPromise;
}

const TEMPLATE = `id: hello
namespace: company.team

inputs:
  - id: name
    type: STRING
    defaults: world

tasks:
  - id: say
    type: io.kestra.plugin.core.log.Log
    message: "Hello {{ inputs.name }}"
`;

export function render(main, params) {
  const isNew = Boolean(params.isNew);
  const stops = [];
  const header = h("div", { class: "title" });
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const body = h("div", { class: "tab-body" });
  main.append(header, tabs, body);
  let flow = null;
  let pendingSource = null; // a revision to restore, put in the editor when it opens

  const names = isNew ? ["editor"] : ["editor", "topology", "triggers", "execute", "executions", "revisions"];
  const labels = { editor: "Editor", topology: "Topology", triggers: "Triggers", execute: "Execute", executions: "Executions", revisions: "Revisions" };
  let current = params.query.get("tab") || (isNew ? "editor" : "editor");
  if (!names.includes(current)) current = "editor";

  let shown = 0; // which showTab an answer arriving late belongs to
  function showTab(name) {
    current = name;
    shown++;
    while (stops.length) stops.pop()();
    for (const b of tabs.children) b.classList.toggle("active", b.dataset.tab === name);
    const url = new URL(location.href);
    if (name === "editor") url.searchParams.delete("tab");
    else url.searchParams.set("tab", name);
    history.replaceState(null, "", url);
    clear(body);
    ({ editor: editorTab, topology: topologyTab, triggers: triggersTab, execute: executeTab, executions: executionsTab, revisions: revisionsTab })[name]();
  }
  for (const name of names) {
    tabs.append(h("button", { class: "tab", "data-tab": name, role: "tab", onclick: () => showTab(name) }, labels[name]));
  }

  function drawHeader() {
    clear(header);
    if (isNew) {
      header.append(h("h1", { text: "New flow" }));
      return;
    }
    append(header, [
      h("h1", {}, h("span", { class: "muted", text: `${flow.namespace}.` }), flow.id),
      h("span", { class: "muted", id: "flow-revision", text: `revision ${flow.revision}` }),
      flow.disabled ? h("span", { class: "state state-killed", id: "flow-disabled", text: "disabled" }) : null,
      h("button", { id: "toggle-flow", class: "title-action", onclick: toggle }, flow.disabled ? "Enable" : "Disable"),
    ]);
  }

  // Kestra's way: `disabled: true|false` written into the source, a new revision.
  async function toggle() {
    try {
      const which = flow.disabled ? "enable" : "disable";
      await call(`/flows/${which}/by-ids`, { method: "POST", body: JSON.stringify([{ namespace: flow.namespace, id: flow.id }]), headers: { "Content-Type": "application/json" } });
      flow = await call(`/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`);
      drawHeader();
      notify(`Flow ${which}d: revision ${flow.revision}`, "info");
      showTab(current);
    } catch (err) {
      notify(err.message);
    }
  }

  function editorTab() {
    const status = h("span", { class: "validation", id: "validation" });
    const problemsList = h("ul", { class: "problems", id: "problems" });
    let seq = 0;
    let timer = null;
    const validate = async (text) => {
      const mine = ++seq;
      if (!text.trim()) {
        status.textContent = "Empty";
        status.className = "validation";
        return;
      }
      try {
        const answer = await yaml("/flows/validate", "POST", text);
        if (mine !== seq) return;
        const problems = answer.flatMap((doc) => (doc.constraints ? parseConstraints(doc.constraints) : []));
        ed.setProblems(problems);
        clear(problemsList);
        for (const p of problems) {
          problemsList.append(h("li", { onclick: () => p.line && ed.focusLine(p.line, p.column) },
            p.line ? h("span", { class: "where", text: `line ${p.line}, column ${p.column}` }) : null, " ", p.message));
        }
        status.textContent = problems.length ? `${problems.length} problem${problems.length > 1 ? "s" : ""}` : "Valid";
        status.className = problems.length ? "validation invalid" : "validation valid";
      } catch (err) {
        if (mine === seq) notify(err.message);
      }
    };
    const initial = pendingSource ?? (flow ? flow.source : TEMPLATE);
    pendingSource = null;
    const ed = createEditor(initial, {
      suggest: async (text, cursor) => {
        const schema = await flowSchema();
        return schema ? suggest(schema, text, cursor) : null;
      },
      onChange: (text) => {
        clearTimeout(timer);
        status.textContent = "Checking…";
        status.className = "validation";
        timer = setTimeout(() => validate(text), 250);
      },
    });
    stops.push(() => clearTimeout(timer));
    const save = h("button", { class: "primary", id: "save-flow", text: isNew ? "Save" : "Save a new revision" });
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        if (isNew) {
          const created = await yaml("/flows", "POST", ed.value);
          go(flowHref(created.namespace, created.id), true);
          notify(`Flow ${created.namespace}.${created.id} saved: revision ${created.revision}`, "info");
          return;
        }
        const before = flow.revision;
        flow = await yaml(`/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`, "PUT", ed.value);
        drawHeader();
        notify(flow.revision === before ? `No change: still revision ${flow.revision}` : `Saved: revision ${flow.revision}`, "info");
      } catch (err) {
        notify(err.message);
      } finally {
        save.disabled = false;
      }
    });
    ed.el.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        save.click();
      }
    });
    body.append(h("div", { class: "toolbar" }, save, status, h("span", { class: "muted small", text: "Ctrl+S saves" })), ed.el, problemsList);
    validate(ed.value);
  }

  // The deployed revision's graph, as the API gives it.
  async function topologyTab() {
    const mine = shown;
    try {
      const graph = await call(`/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}/graph`, { params: { revision: flow.revision } });
      if (shown === mine) clear(body).append(topology(flow, graph));
    } catch (err) {
      notify(err.message);
    }
  }

  function triggersTab() {
    const holder = h("div");
    body.append(holder);
    stops.push(triggerTable(holder, { namespace: flow.namespace, flowId: flow.id, declared: flow.triggers || [] }));
  }

  function executeTab() {
    body.append(inputsForm(flow.inputs, async (data, labelsGiven) => {
      try {
        const started = await call(`/executions/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}`, {
          method: "POST",
          body: data,
          params: { labels: labelsGiven },
        });
        go(executionHref(started.id));
      } catch (err) {
        notify(err.message);
      }
    }));
  }

  function executionsTab() {
    const holder = h("div");
    body.append(holder);
    stops.push(executionTable(holder, { namespace: flow.namespace, flowId: flow.id }));
  }

  async function revisionsTab() {
    const list = h("ul", { class: "revisions", id: "revisions" });
    const view = h("div", { class: "revision-view" });
    body.append(h("div", { class: "split" }, list, view));
    let revisions;
    try {
      revisions = await call(`/flows/${encodeURIComponent(flow.namespace)}/${encodeURIComponent(flow.id)}/revisions`);
    } catch (err) {
      notify(err.message);
      return;
    }
    const byNumber = new Map(revisions.map((r) => [r.revision, r]));
    const show = (r) => {
      for (const li of list.children) li.classList.toggle("active", li.dataset.revision === String(r.revision));
      const previous = byNumber.get(r.revision - 1);
      // The first revision is shown as it is; every later one against the one before.
      const lines = previous ? diffLines(previous.source, r.source) : r.source.split("\n").map((text) => ({ op: " ", text }));
      clear(view).append(
        h("div", { class: "toolbar" },
          h("span", { class: "muted", text: previous ? `Revision ${r.revision} against revision ${previous.revision}` : `Revision ${r.revision}` }),
          // Restoring is editing: the old source goes into the editor, and saving makes a new revision.
          r.revision !== flow.revision ? h("button", { id: "restore-revision", onclick: () => { pendingSource = r.source; showTab("editor"); notify(`Revision ${r.revision} is in the editor: save it to make it the latest`, "info"); } }, "Restore in the editor") : null),
        h("pre", { class: "diff" }, lines.map((l) => h("div", { class: l.op === "+" ? "add" : l.op === "-" ? "del" : "same", text: `${l.op} ${l.text}` }))),
      );
    };
    for (const r of [...revisions].reverse()) {
      list.append(h("li", { "data-revision": r.revision, onclick: () => show(r) },
        h("strong", { text: `Revision ${r.revision}` }), h("br"), h("span", { class: "muted small", text: when(r.updated) })));
    }
    if (revisions.length) show(revisions[revisions.length - 1]);
  }

  (async () => {
    if (!isNew) {
      try {
        flow = await call(`/flows/${encodeURIComponent(params.namespace)}/${encodeURIComponent(params.id)}`);
      } catch (err) {
        notify(err.message);
        return;
      }
    }
    drawHeader();
    showTab(current);
  })();
  return () => {
    while (stops.length) stops.pop()();
  };
}
