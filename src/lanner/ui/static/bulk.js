// The executions list's selection and its bulk actions: Kill, Delete, Restart,
// Replay, Pause, Resume and Set labels of the selected executions (the API's
// `by-ids`, which refuses the whole batch when one cannot take the action), or
// of every execution matching the list's filter (`by-query`, which skips those
// the action does not apply to). A confirm dialog tells how many first.
import { call } from "./api.js";
import { dialog } from "./dialog.js";
import { clear, h, notify } from "./dom.js";
import { labelRows } from "./labels.js";

const ACTIONS = [
  { name: "Kill", method: "DELETE", ids: "/executions/kill/by-ids", query: "/executions/kill/by-query", kind: "danger" },
  { name: "Delete", method: "DELETE", ids: "/executions/by-ids", query: "/executions/by-query", kind: "danger" },
  { name: "Restart", method: "POST", ids: "/executions/restart/by-ids", query: "/executions/restart/by-query" },
  { name: "Replay", method: "POST", ids: "/executions/replay/by-ids", query: "/executions/replay/by-query" },
  { name: "Pause", method: "POST", ids: "/executions/pause/by-ids", query: "/executions/pause/by-query" },
  { name: "Resume", method: "POST", ids: "/executions/resume/by-ids", query: "/executions/resume/by-query" },
  // The labels are asked in the dialog; by ids they go in Kestra's BulkLabels body.
  { name: "Set labels", id: "labels", method: "POST", ids: "/executions/labels/by-ids", query: "/executions/labels/by-query", labels: true },
];

const JSON_BODY = { "Content-Type": "application/json" };

const plural = (n) => `${n} execution${n === 1 ? "" : "s"}`;

// `filters()` gives the list's search filters (no paging); `done()` reloads it.
export function bulkSelection(bar, table, { filters, done }) {
  const selected = new Set();
  let all = false;
  let total = 0;
  let pageIds = [];
  const pageBox = h("input", { type: "checkbox", id: "select-page", title: "Select this page", "aria-label": "Select this page" });

  function syncBoxes() {
    for (const box of table.querySelectorAll("input[data-select]")) box.checked = all || selected.has(box.dataset.select);
    pageBox.checked = all || (pageIds.length > 0 && pageIds.every((id) => selected.has(id)));
  }
  function reset() {
    all = false;
    selected.clear();
    syncBoxes();
    drawBar();
  }
  function drawBar() {
    clear(bar);
    const count = all ? total : selected.size;
    if (!count) {
      bar.append(h("span", { class: "muted", text: "Select executions to act on them at once." }));
      return;
    }
    bar.append(h("span", { class: "count", id: "bulk-count", text: all ? `All ${plural(total)} matching the filter` : `${selected.size} selected` }));
    for (const action of ACTIONS) {
      bar.append(h("button", { id: `bulk-${action.id || action.name.toLowerCase()}`, class: action.kind || "", onclick: () => confirm(action).catch((err) => notify(err.message)) }, action.name));
    }
    // By query needs a filter: the API refuses to act on every execution at once.
    if (!all && total > selected.size && Object.keys(filters()).length) {
      bar.append(h("button", { id: "bulk-all", onclick: () => { all = true; syncBoxes(); drawBar(); } }, `Select all ${plural(total)} matching the filter`));
    }
    bar.append(h("button", { id: "bulk-clear", onclick: reset }, "Clear"));
  }

  async function confirm(action) {
    const query = filters();
    const ids = [...selected];
    // The count as it stands now, not as the last poll saw it.
    const count = all ? (await call("/executions/search", { params: { ...query, page: 1, size: 1 } })).total : ids.length;
    const labels = action.labels ? labelRows() : null;
    dialog({
      id: "bulk-dialog",
      title: `${action.name} ${action.labels ? "on " : ""}${plural(count)}?`,
      submit: `${action.name} ${action.labels ? "on " : ""}${count}`,
      kind: action.kind || "primary",
      body: [h("p", { class: "muted", text: all
        ? "Every execution matching the filter; those the action does not apply to are skipped."
        : "Each selected execution must be able to take the action, or none is acted on." }), labels ? labels.body : null],
      onSubmit: async () => {
        let answer;
        if (labels) {
          const given = labels.read();
          answer = all
            ? await call(action.query, { method: action.method, params: query, headers: JSON_BODY, body: JSON.stringify(given) })
            : await call(action.ids, { method: action.method, headers: JSON_BODY, body: JSON.stringify({ executionsId: ids, executionLabels: given }) });
        } else {
          answer = all
            ? await call(action.query, { method: action.method, params: query })
            : await call(action.ids, { method: action.method, headers: JSON_BODY, body: JSON.stringify(ids) });
        }
        notify(`${action.name}: ${plural(answer.count)}`, "info");
        reset();
        await done();
      },
    });
  }

  pageBox.addEventListener("change", () => {
    all = false;
    for (const id of pageIds) {
      if (pageBox.checked) selected.add(id);
      else selected.delete(id);
    }
    syncBoxes();
    drawBar();
  });
  table.addEventListener("change", (event) => {
    const box = event.target.closest("input[data-select]");
    if (!box) return;
    if (all) {
      // Leaving "all matching": the selection becomes this page minus the unticked one.
      all = false;
      for (const id of pageIds) selected.add(id);
    }
    if (box.checked) selected.add(box.dataset.select);
    else selected.delete(box.dataset.select);
    syncBoxes();
    drawBar();
  });
  drawBar();
  return {
    header: h("th", { class: "select" }, pageBox),
    cell: (id) => h("td", { class: "select" }, h("input", { type: "checkbox", "data-select": id, checked: all || selected.has(id), "aria-label": `Select ${id}` })),
    // After each load of the list: this page's ids and the filter's total.
    loaded(ids, count) {
      pageIds = ids;
      total = count;
      syncBoxes();
      drawBar();
    },
    reset,
  };
}
