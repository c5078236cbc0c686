// Kestra's "Set labels" dialog: the execution's labels, their values editable,
// and new ones added. The API adds or updates (an execution's other labels are
// kept), so a label cannot be removed here. The rows serve the executions
// list's bulk Set labels too.
import { call } from "./api.js";
import { dialog } from "./dialog.js";
import { h } from "./dom.js";

function row(key = "", value = "", fixedKey = false) {
  return h("div", { class: "label-row", "data-label-row": "" },
    h("input", { class: "label-key", placeholder: "key", value: key, readonly: fixedKey, "aria-label": "Label key" }),
    h("input", { class: "label-value", placeholder: "value", value, "aria-label": "Label value" }));
}

// The rows (the given labels' keys fixed, then an empty one), an "Add a label"
// button, and `read()`: Kestra's list of {key, value}, or an error naming the
// incomplete row.
export function labelRows(labels = []) {
  const rows = h("div", { id: "label-rows" }, labels.map((l) => row(l.key, l.value, true)), row());
  const add = h("button", { type: "button", id: "label-add", onclick: () => rows.append(row()) }, "Add a label");
  const read = () => {
    const out = [];
    for (const r of rows.querySelectorAll("[data-label-row]")) {
      const key = r.querySelector(".label-key").value.trim();
      const value = r.querySelector(".label-value").value.trim();
      if (!key && !value) continue;
      if (!key || !value) throw new Error(`A label needs a key and a value: ${key || "(no key)"}:${value || "(no value)"}`);
      out.push({ key, value });
    }
    if (!out.length) throw new Error("Give at least one label (a key and a value).");
    return out;
  };
  return { body: [rows, add], read };
}

export function labelsDialog(execution, done) {
  // system.* labels (system.correlationId, ...) are Lanner's, not the user's to
  // change: the execution page lists them, the dialog does not.
  const own = (execution.labels || []).filter((l) => !l.key.startsWith("system."));
  const form = labelRows(own);
  dialog({
    id: "labels-dialog",
    title: "Set labels",
    submit: "Save",
    body: form.body,
    onSubmit: async () => {
      const updated = await call(`/executions/${encodeURIComponent(execution.id)}/labels`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(form.read()),
      });
      done(updated);
    },
  });
}
