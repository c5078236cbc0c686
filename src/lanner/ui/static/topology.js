// The flow's topology, drawn from the API's graph (`GET /flows/{ns}/{id}/graph`,
// Kestra's FlowGraph, what kestrapy gets) so that the page and the API cannot
// disagree: the main chain of tasks, each flowable a cluster holding its
// branches (grouped by the property that holds them: tasks, then, else,
// cases.X, errors, ...; a PARALLEL group side by side), and the flow's errors,
// finally and afterExecution clusters shown apart. The graph has no triggers:
// they come from the flow's document.
import { h } from "./dom.js";

const BLOCKS = { ERROR: "Errors", FINALLY: "Finally", AFTER_EXECUTION: "After execution" };

const isTask = (v) => v && typeof v === "object" && !Array.isArray(v) && typeof v.id === "string" && typeof v.type === "string";

function drawGraph(graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.uid, n]));
  const out = new Map();
  for (const e of graph.edges) {
    if (!out.has(e.source)) out.set(e.source, []);
    out.get(e.source).push(e);
  }
  const clusterAt = new Map(graph.clusters.map((c) => [c.start, c]));
  const taskUid = (c) => c.cluster.uid.replace(/^cluster_/, "");
  // A chain element's task uid: the task's own, or its cluster's flowable.
  const headUid = (uid) => (clusterAt.has(uid) ? taskUid(clusterAt.get(uid)) : uid);
  const next = (uid) => ((out.get(uid) || [])[0] || {}).target;

  function taskBox(node) {
    const task = node.task || {};
    return h("div", { class: "topo-task", "data-task": task.id, "data-uid": node.uid, title: task.type },
      head(task));
  }

  function head(task) {
    return h("div", { class: "topo-head" }, h("strong", { text: task.id }), h("span", { class: "muted small", text: ` ${(task.type || "").split(".").pop()}` }),
      task.disabled ? h("span", { class: "muted small", text: " (disabled)" }) : null);
  }

  // The elements from `first` up to `end` (excluded), following the edges; each
  // edge between two of them is an element too, named by its graph ends.
  function chain(first, end) {
    const items = [];
    let uid = first;
    for (let guard = 0; uid && uid !== end && guard <= nodes.size; guard++) {
      const c = clusterAt.get(uid);
      items.push(c ? flowableBox(c) : taskBox(nodes.get(uid)));
      const exit = c ? c.end : uid;
      const edge = (out.get(exit) || [])[0];
      uid = edge && edge.target;
      if (uid && uid !== end) {
        items.push(h("div", { class: "topo-edge muted", "data-source": exit, "data-target": uid, "data-relation": edge.relation.relationType, title: edge.relation.relationType, text: "↓" }));
      }
    }
    return items;
  }

  function flowableBox(c) {
    const uid = taskUid(c);
    const node = nodes.get(uid) || { task: c.cluster.task || {} };
    const groups = new Map();
    for (const e of out.get(uid) || []) {
      const first = headUid(e.target);
      const id = (nodes.get(first).task || {}).id || "";
      const key = first.slice(uid.length + 1, first.length - id.length - 1);
      if (!groups.has(key)) groups.set(key, { relation: e.relation.relationType, items: [] });
      groups.get(key).items.push(...chain(e.target, c.end));
    }
    return h("div", { class: "topo-task topo-flowable", "data-task": node.task.id, "data-uid": uid, "data-cluster": c.cluster.uid, title: node.task.type },
      head(node.task),
      [...groups].map(([key, g]) => h("div", { class: "topo-group", "data-relation": g.relation },
        h("div", { class: "topo-label muted small", text: key, title: g.relation }),
        h("div", { class: g.relation === "PARALLEL" ? "topo-seq topo-parallel" : "topo-seq" }, g.items))));
  }

  const blocks = graph.clusters.filter((c) => !c.parents.length && !c.cluster.task && BLOCKS[c.cluster.relationType]);
  const blockStarts = new Set(blocks.map((c) => c.start));
  const root = graph.nodes[0].uid; // the graph's GraphClusterRoot
  const end = graph.nodes[1].uid;
  const main = (out.get(root) || []).find((e) => !blockStarts.has(e.target));
  const sections = [h("section", { class: "topo-block topo-tasks", "data-block": "tasks" }, h("h3", { text: "Tasks" }),
    h("div", { class: "topo-seq" }, main ? chain(main.target, end) : []))];
  for (const c of blocks) {
    const key = taskUid(c).split(".").pop();
    sections.push(h("section", { class: `topo-block topo-${key}`, "data-block": key, "data-cluster": c.cluster.uid }, h("h3", { text: BLOCKS[c.cluster.relationType] }),
      h("div", { class: "topo-seq" }, chain(next(c.start), c.end))));
  }
  return sections;
}

export function topology(flow, graph) {
  const triggers = (flow.triggers || []).filter(isTask);
  return h("div", { class: "topology", id: "topology" },
    triggers.length ? h("section", { class: "topo-block", "data-block": "triggers" }, h("h3", { text: "Triggers" }),
      h("div", { class: "topo-seq topo-parallel" }, triggers.map((t) => h("div", { class: "topo-task topo-trigger", "data-trigger": t.id, title: t.type },
        h("div", { class: "topo-head" }, h("strong", { text: t.id }), h("span", { class: "muted small", text: ` ${t.type.split(".").pop()}` })),
        t.cron ? h("div", { class: "mono small", text: t.cron }) : null)))) : null,
    drawGraph(graph));
}
