// Namespace files: a namespace's folders and files (one level at a time), a
// file's text, upload (a new file or a replacement) and delete; through Kestra's
// namespace files API.
import { API, call } from "./api.js";
import { clear, h, notify, when } from "./dom.js";

const join = (folder, name) => (folder === "/" ? `/${name}` : `${folder}/${name}`);

export function render(main, { query }) {
  let namespace = query.get("namespace") || "";
  let folder = query.get("path") || "/";
  const namespaces = h("select", { id: "nsfiles-namespace" }, h("option", { value: "", text: "Choose a namespace" }));
  const where = h("div", { id: "nsfiles-path", class: "mono" });
  const body = h("tbody");
  const shown = h("pre", { id: "nsfiles-content", class: "data" });
  const name = h("input", { id: "nsfiles-name", placeholder: "file name (in this folder)" });
  const file = h("input", { id: "nsfiles-file", type: "file" });
  const form = h("form", { id: "nsfiles-form", class: "filters" }, name, file, h("button", { type: "submit", class: "primary", id: "nsfiles-upload" }, "Upload"));
  main.append(
    h("div", { class: "title" }, h("h1", { text: "Namespace files" })),
    h("div", { class: "filters" }, namespaces, where),
    h("table", { class: "list", id: "nsfiles" },
      h("thead", {}, h("tr", {}, ["Name", "Size", "Modified", ""].map((t) => h("th", { text: t })))),
      body),
    h("h2", { text: "Upload a file" }), form, shown,
  );

  const base = () => `/namespaces/${encodeURIComponent(namespace)}/files`;
  async function load() {
    clear(body);
    clear(shown);
    clear(where);
    if (!namespace) return;
    const url = new URL(location.href);
    url.search = new URLSearchParams({ namespace, path: folder }).toString();
    history.replaceState(null, "", url);
    where.append(folder);
    if (folder !== "/") {
      const up = folder.slice(0, folder.lastIndexOf("/")) || "/";
      body.append(h("tr", {}, h("td", { colspan: 4 }, h("a", { href: "#", class: "up", onclick: (e) => { e.preventDefault(); folder = up; load().catch((err) => notify(err.message)); } }, ".."))));
    }
    let entries = [];
    try {
      entries = await call(`${base()}/directory`, { params: { path: folder } });
    } catch (err) {
      if (err.status !== 404) throw err; // a namespace without files
    }
    for (const e of entries) {
      const path = join(folder, e.fileName);
      const isDir = e.type === "Directory";
      body.append(h("tr", { "data-file": path },
        h("td", {}, h("a", { href: "#", class: "open", onclick: async (event) => {
          event.preventDefault();
          if (isDir) {
            folder = path;
            return load().catch((err) => notify(err.message));
          }
          try {
            const resp = await fetch(`${API}${base()}?path=${encodeURIComponent(path)}`);
            if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
            clear(shown).append(`${path}:\n`, await resp.text());
          } catch (err) {
            notify(err.message);
          }
        } }, isDir ? `${e.fileName}/` : e.fileName)),
        h("td", { text: isDir ? "" : String(e.size) }),
        h("td", { text: e.lastModifiedTime ? when(new Date(e.lastModifiedTime).toISOString()) : "" }),
        h("td", {}, h("button", { class: "danger delete", onclick: async () => {
          try {
            await call(base(), { method: "DELETE", params: { path } });
            notify(`Deleted ${path}`, "info");
            await load();
          } catch (err) {
            notify(err.message);
          }
        } }, "Delete")),
      ));
    }
    if (!entries.length) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted", text: "No file here." })));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!namespace) return notify("Choose a namespace first");
    const chosen = file.files[0];
    const fileName = name.value.trim() || (chosen && chosen.name);
    if (!chosen || !fileName) return notify("Choose a file to upload");
    const data = new FormData();
    data.append("fileContent", chosen, fileName);
    try {
      await call(base(), { method: "POST", body: data, params: { path: join(folder, fileName) } });
      notify(`Uploaded ${join(folder, fileName)}`, "info");
      name.value = "";
      file.value = "";
      await load();
    } catch (err) {
      notify(err.message);
    }
  });
  namespaces.addEventListener("change", () => {
    namespace = namespaces.value;
    folder = "/";
    load().catch((err) => notify(err.message));
  });
  call("/flows/distinct-namespaces").then((names) => {
    if (namespace && !names.includes(namespace)) names.push(namespace);
    for (const n of names) namespaces.append(h("option", { value: n, text: n, selected: n === namespace }));
    load().catch((err) => notify(err.message));
  }, (err) => notify(err.message));
}
