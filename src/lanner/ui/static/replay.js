// Replay, from the start or from a task run (Kestra's "Replay" on the execution
// and on a task run): asks the flow revision to run (the execution's by
// default; the flow's revisions listed), calls the replay API (with
// `taskRunId` for a task run) and opens the new execution.
import { call } from "./api.js";
import { dialog } from "./dialog.js";
import { executionHref, go, h } from "./dom.js";

async function revisionNumbers(execution) {
  try {
    const revisions = await call(`/flows/${encodeURIComponent(execution.namespace)}/${encodeURIComponent(execution.flowId)}/revisions`);
    const numbers = revisions.map((r) => r.revision);
    return numbers.length ? numbers : [execution.flowRevision];
  } catch {
    // A deleted flow has no revisions to list; the API then says why the replay is refused.
    return [execution.flowRevision];
  }
}

export async function replayDialog(execution, taskRun = null) {
  const numbers = await revisionNumbers(execution);
  const latest = Math.max(...numbers);
  const revision = h("select", { id: "replay-revision" }, [...numbers].sort((a, b) => b - a).map((n) => {
    const notes = [n === execution.flowRevision ? "this execution's" : null, n === latest ? "latest" : null].filter(Boolean);
    return h("option", { value: n, text: notes.length ? `${n} (${notes.join(", ")})` : String(n), selected: n === execution.flowRevision });
  }));
  const name = !taskRun ? null : taskRun.value !== null && taskRun.value !== undefined ? `${taskRun.taskId} [${taskRun.value}]` : taskRun.taskId;
  dialog({
    id: "replay-dialog",
    title: name ? `Replay from ${name}` : "Replay",
    submit: "Replay",
    body: [
      h("p", { class: "muted", text: name
        ? "A new execution: the task runs before this one are copied as they ended; this task run and what follows it run again."
        : "A new execution with the same inputs and labels, from the start." }),
      h("label", {}, "Flow revision ", revision),
    ],
    onSubmit: async () => {
      const replayed = await call(`/executions/${encodeURIComponent(execution.id)}/replay`, {
        method: "POST", params: { taskRunId: taskRun ? taskRun.id : null, revision: revision.value },
      });
      go(executionHref(replayed.id));
    },
  });
}
