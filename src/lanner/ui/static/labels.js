// Kestra's "Set labels" dialog: the execution's labels, their values editable,
// and new ones added. The API adds or updates (an execution's other labels are
// kept), so a label cannot be removed here.
import { call } from "./api.js";
import { dialog } from "./dialog.js";
import { h } from "./dom.js";

function row(key = "", value = "", fixedKey = false) {
  return h("div", { class: "label-row", "data-label-row": "" },
    h("input", { class: "label-key", placeholder: "key", value: key, readonly: fixedKey, "aria-label": "Label key" }),
    h("input", { class: "label-value", placeholder: "value", value, "aria-label": "Label value" }));
}

export function labelsDialog(execution, done) {
  const rows = h("div", { id: "label-rows" }, (execution.labels || []).map((l) => row(l.key, l.value, true)), row());
  dialog({
    id: "labels-dialog",
    title: "Set labels",
    submit: "Save",
    body: [rows, h("button", { type: "button", id: "label-add", onclick: () => rows.append(row()) }, "Add a label")],
    onSubmit: async () => {
      const labels = [];
      for (const r of rows.querySelectorAll("[data-label-row]")) {
        const key = r.querySelector(".label-key").value.trim();
        const value = r.querySelector(".label-value").value.trim();
        if (!key && !value) continue;
        if (!key || !value) throw new Error(`A label needs a key and a value: ${key || "(no key)"}:${value || "(no value)"}`);
        labels.push({ key, value });
      }
      const updated = await call(`/executions/${encodeURIComponent(execution.id)}/labels`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(labels),
      });
      done(updated);
    },
  });
}
