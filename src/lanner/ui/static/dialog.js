// A modal dialog (the browser's <dialog>): a title, its fields, Cancel and the
// action's button. The action's error is shown in the dialog, which stays open
// so the user can correct it; the dialog is removed once closed.
import { h } from "./dom.js";

export function dialog({ id, title, body, submit, kind = "primary", onSubmit }) {
  const error = h("p", { class: "dialog-error", id: `${id}-error`, hidden: true });
  const ok = h("button", { type: "submit", id: `${id}-submit`, class: kind }, submit);
  const box = h("dialog", { id, class: "dialog" });
  const form = h("form", { method: "dialog" },
    h("h2", { text: title }), body, error,
    h("div", { class: "toolbar dialog-buttons" },
      h("button", { type: "button", id: `${id}-cancel`, onclick: () => box.close() }, "Cancel"), ok));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ok.disabled = true;
    try {
      await onSubmit();
      box.close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      ok.disabled = false;
    }
  });
  box.append(form);
  box.addEventListener("close", () => box.remove());
  document.body.append(box);
  box.showModal();
  return box;
}
