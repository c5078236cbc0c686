// The KV store: a namespace's pairs (type, last write, expiry), read one, set
// one (a JSON value, or text), delete one; through Kestra's KV API.
import { API, call } from "./api.js";
import { clear, h, notify, pretty, when } from "./dom.js";

export function render(main, { query }) {
  let namespace = query.get("namespace") || "";
  const namespaces = h("select", { id: "kv-namespace" }, h("option", { value: "", text: "Choose a namespace" }));
  const body = h("tbody");
  const shown = h("pre", { id: "kv-value", class: "data" });
  const key = h("input", { id: "kv-key", placeholder: "key" });
  const value = h("textarea", { id: "kv-new-value", placeholder: "value: JSON (3, true, \"text\", {...}) or plain text", rows: 3 });
  const form = h("form", { id: "kv-form", class: "filters" }, key, value, h("button", { type: "submit", class: "primary", id: "kv-set" }, "Set"));
  main.append(
    h("div", { class: "title" }, h("h1", { text: "KV store" })),
    h("div", { class: "filters" }, namespaces),
    h("table", { class: "list", id: "kv" },
      h("thead", {}, h("tr", {}, ["Key", "Updated", "Expires", ""].map((t) => h("th", { text: t })))),
      body),
    h("h2", { text: "Set a value" }), form, shown,
  );

  const base = () => `/namespaces/${encodeURIComponent(namespace)}/kv`;
  async function load() {
    clear(body);
    clear(shown);
    if (!namespace) return;
    const url = new URL(location.href);
    url.search = new URLSearchParams({ namespace }).toString();
    history.replaceState(null, "", url);
    const entries = await call(base());
    for (const e of entries) {
      body.append(h("tr", { "data-key": e.key },
        h("td", { class: "mono", text: e.key }),
        h("td", { text: when(e.updateDate || e.creationDate) }),
        h("td", { text: e.expirationDate ? when(e.expirationDate) : "" }),
        h("td", {},
          h("button", { class: "show", onclick: async () => {
            try {
              const got = await call(`${base()}/${encodeURIComponent(e.key)}`);
              clear(shown).append(`${e.key} (${got.type}): `, pretty(got.value));
            } catch (err) {
              notify(err.message);
            }
          } }, "Show"),
          h("button", { class: "danger delete", onclick: async () => {
            try {
              await call(`${base()}/${encodeURIComponent(e.key)}`, { method: "DELETE" });
              notify(`Deleted ${e.key}`, "info");
              await load();
            } catch (err) {
              notify(err.message);
            }
          } }, "Delete")),
      ));
    }
    if (!entries.length) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted", text: "No pair in this namespace." })));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!namespace) return notify("Choose a namespace first");
    try {
      await fetch(`${API}${base()}/${encodeURIComponent(key.value.trim())}`, { method: "PUT", body: value.value, headers: { "Content-Type": "text/plain" } })
        .then(async (resp) => { if (!resp.ok) throw new Error((await resp.json()).message); });
      notify(`Set ${key.value.trim()}`, "info");
      key.value = "";
      value.value = "";
      await load();
    } catch (err) {
      notify(err.message);
    }
  });
  namespaces.addEventListener("change", () => {
    namespace = namespaces.value;
    load().catch((err) => notify(err.message));
  });
  call("/flows/distinct-namespaces").then((names) => {
    if (namespace && !names.includes(namespace)) names.push(namespace);
    for (const n of names) namespaces.append(h("option", { value: n, text: n, selected: n === namespace }));
    load().catch((err) => notify(err.message));
  }, (err) => notify(err.message));
}
