// The start form: one field per input the flow declares, by its type. A field
// left empty is not sent, so the flow's default applies (a dynamic default is
// shown as the placeholder).
import { h } from "./dom.js";

const TEXT = { STRING: "text", EMAIL: "email", URI: "url", SECRET: "password", DURATION: "text", DATETIME: "text", DATE: "text", TIME: "text" };
const HINTS = { DURATION: "PT5M", DATETIME: "2024-01-31T10:00:00Z", DATE: "2024-01-31", TIME: "10:00:00", JSON: '{"key": "value"}', ARRAY: '["a", "b"]', YAML: "key: value" };

function shown(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

const dynamic = (text) => /\{\{|\{%/.test(text);

function field(input) {
  const type = (input.type || "STRING").toUpperCase();
  const name = input.id;
  const initial = shown(input.defaults);
  const fixed = initial && !dynamic(initial) ? initial : "";
  const placeholder = initial && dynamic(initial) ? `default: ${initial}` : HINTS[type] || "";
  const common = { name, id: `input-${name}`, "data-type": type };
  if (type === "BOOL" || type === "BOOLEAN") {
    return h("select", common,
      h("option", { value: "", text: fixed ? `default (${fixed})` : "(not set)" }),
      h("option", { value: "true", text: "true" }),
      h("option", { value: "false", text: "false" }));
  }
  if (type === "SELECT" || type === "ENUM" || type === "MULTISELECT") {
    const multiple = type === "MULTISELECT";
    let chosen = [];
    try {
      chosen = multiple && fixed ? JSON.parse(fixed) : [fixed];
    } catch {
      chosen = [fixed];
    }
    const options = (input.values || input.options || []).map((v) => h("option", { value: shown(v), text: shown(v), selected: chosen.includes(shown(v)) }));
    if (!multiple) options.unshift(h("option", { value: "", text: fixed ? `default (${fixed})` : "(not set)" }));
    return h("select", { ...common, multiple }, options);
  }
  if (type === "INT" || type === "FLOAT") {
    return h("input", { ...common, type: "number", step: type === "INT" ? "1" : "any", value: fixed, placeholder, min: input.min, max: input.max });
  }
  if (type === "JSON" || type === "ARRAY" || type === "YAML") {
    return h("textarea", { ...common, rows: 3, placeholder, value: fixed });
  }
  if (type === "FILE") {
    // Sent as a file part of the multipart body, as Kestra's UI does; a server
    // whose API takes no FILE input answers with a 422 naming it.
    return h("input", { ...common, type: "file" });
  }
  return h("input", { ...common, type: TEXT[type] || "text", value: fixed, placeholder });
}

// `options`: the button's text and id, and whether labels are asked (a start
// form asks them; the resume form of a Pause task does not).
export function inputsForm(inputs, onSubmit, { button: buttonText = "Execute", id = "start", labels: withLabels = true } = {}) {
  const rows = (inputs || []).map((input) => {
    const required = input.required !== false && (input.defaults === undefined || input.defaults === null);
    return h("label", { class: "field" },
      h("span", { class: "field-name" }, input.displayName || input.id, required ? h("span", { class: "required", text: " *" }) : null,
        h("span", { class: "muted", text: ` ${input.type || "STRING"}` })),
      field(input),
      input.description ? h("span", { class: "muted small", text: input.description }) : null);
  });
  const labels = h("input", { name: "__labels", id: `${id}-labels`, placeholder: "key:value, key2:value2" });
  const button = h("button", { type: "submit", class: "primary", id: id === "start" ? "start-execution" : `${id}-submit`, text: buttonText });
  const form = h("form", { class: "start-form", id: `${id}-form` },
    rows.length ? rows : h("p", { class: "muted", text: withLabels ? "This flow declares no inputs." : "No input is asked." }),
    withLabels ? h("label", { class: "field" }, h("span", { class: "field-name", text: "Labels" }), labels) : null,
    button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData();
    for (const el of form.querySelectorAll("[data-type]")) {
      if (el.disabled) continue;
      if (el.type === "file") {
        if (el.files.length) data.append(el.name, el.files[0], el.files[0].name);
      } else if (el.multiple) {
        const chosen = [...el.selectedOptions].map((o) => o.value);
        if (chosen.length) data.append(el.name, JSON.stringify(chosen));
      } else if (el.value !== "") data.append(el.name, el.value);
    }
    const given = withLabels ? labels.value.split(",").map((s) => s.trim()).filter(Boolean) : [];
    button.disabled = true;
    try {
      await onSubmit(data, given);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
