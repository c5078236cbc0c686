// The flow's topology: its tasks in order, flowables holding their children
// (each group named by its property: tasks, then, else, cases.X, errors, ...),
// and the flow's errors, finally and afterExecution blocks shown apart.
import { h } from "./dom.js";

const BLOCKS = [["tasks", "Tasks"], ["errors", "Errors"], ["finally", "Finally"], ["afterExecution", "After execution"]];
const PARALLEL = /\.(Parallel|ForEach|WorkingDirectory|AllowFailure|Dag)$/;

const isTask = (v) => v && typeof v === "object" && !Array.isArray(v) && typeof v.id === "string" && typeof v.type === "string";
const isTaskList = (v) => Array.isArray(v) && v.length > 0 && v.every(isTask);

function childGroups(task) {
  const groups = [];
  for (const [key, value] of Object.entries(task)) {
    if (isTaskList(value)) groups.push([key, value]);
    else if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [sub, inner] of Object.entries(value)) if (isTaskList(inner)) groups.push([`${key}.${sub}`, inner]);
    }
  }
  return groups;
}

function taskBox(task) {
  const shortType = task.type.split(".").pop();
  const groups = childGroups(task);
  return h("div", { class: `topo-task${groups.length ? " topo-flowable" : ""}`, "data-task": task.id, title: task.type },
    h("div", { class: "topo-head" }, h("strong", { text: task.id }), h("span", { class: "muted small", text: ` ${shortType}` }),
      task.disabled ? h("span", { class: "muted small", text: " (disabled)" }) : null),
    groups.map(([key, tasks]) => h("div", { class: "topo-group" },
      h("div", { class: "topo-label muted small", text: key }),
      sequence(tasks, key === "tasks" && PARALLEL.test(task.type)))));
}

function sequence(tasks, sideBySide = false) {
  return h("div", { class: sideBySide ? "topo-seq topo-parallel" : "topo-seq" }, tasks.map(taskBox));
}

export function topology(flow) {
  const blocks = BLOCKS.filter(([key]) => isTaskList(flow[key])).map(([key, label]) =>
    h("section", { class: `topo-block topo-${key}`, "data-block": key }, h("h3", { text: label }), sequence(flow[key])));
  const triggers = (flow.triggers || []).filter(isTask);
  return h("div", { class: "topology", id: "topology" },
    triggers.length ? h("section", { class: "topo-block", "data-block": "triggers" }, h("h3", { text: "Triggers" }),
      h("div", { class: "topo-seq topo-parallel" }, triggers.map((t) => h("div", { class: "topo-task topo-trigger", "data-trigger": t.id, title: t.type },
        h("div", { class: "topo-head" }, h("strong", { text: t.id }), h("span", { class: "muted small", text: ` ${t.type.split(".").pop()}` })),
        t.cron ? h("div", { class: "mono small", text: t.cron }) : null)))) : null,
    blocks);
}
