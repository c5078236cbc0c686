// Flows: every deployed flow, searched by text and filtered by namespace.
import { call } from "./api.js";
import { clear, flowHref, h, link, notify, when } from "./dom.js";

const SIZE = 50;

export function render(main, { query }) {
  const state = { q: query.get("q") || "", namespace: query.get("namespace") || "", page: 1 };
  const search = h("input", { type: "search", id: "flow-search", placeholder: "Search flows", value: state.q });
  const namespaces = h("select", { id: "flow-namespace" }, h("option", { value: "", text: "All namespaces" }));
  const body = h("tbody");
  const footer = h("div", { class: "pager" });
  let alive = true;

  main.append(
    h("div", { class: "title" }, h("h1", { text: "Flows" }), link("/ui/flows/new", "Create a flow", { class: "button primary", id: "new-flow" })),
    h("div", { class: "filters" }, search, namespaces),
    h("table", { class: "list", id: "flows" },
      h("thead", {}, h("tr", {}, ["Id", "Namespace", "Revision", "Labels", "Updated"].map((t) => h("th", { text: t })))),
      body),
    footer,
  );

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = { page: state.page, size: SIZE };
    if (state.q) params["filters[q][EQUALS]"] = state.q;
    if (state.namespace) params["filters[namespace][PREFIX]"] = state.namespace;
    const url = new URL(location.href);
    url.search = new URLSearchParams(Object.entries({ q: state.q, namespace: state.namespace }).filter(([, v]) => v)).toString();
    history.replaceState(null, "", url);
    try {
      const answer = await call("/flows/search", { params });
      if (!alive || mine !== seq) return;
      clear(body);
      for (const f of answer.results) {
        body.append(h("tr", { "data-flow": `${f.namespace}.${f.id}` },
          h("td", {}, link(flowHref(f.namespace, f.id), f.id)),
          h("td", { text: f.namespace }),
          h("td", { text: f.revision }),
          h("td", {}, (f.labels || []).map((l) => h("span", { class: "label", text: `${l.key}:${l.value}` }))),
          h("td", { text: when(f.updated) }),
        ));
      }
      if (!answer.results.length) body.append(h("tr", {}, h("td", { colspan: 5, class: "muted", text: "No flow matches." })));
      pager(footer, state, answer.total, SIZE, load);
    } catch (err) {
      notify(err.message);
    }
  }

  let debounce = null;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.q = search.value.trim();
      state.page = 1;
      load();
    }, 200);
  });
  namespaces.addEventListener("change", () => {
    state.namespace = namespaces.value;
    state.page = 1;
    load();
  });
  call("/flows/distinct-namespaces").then((names) => {
    for (const n of names) namespaces.append(h("option", { value: n, text: n, selected: n === state.namespace }));
  }, (err) => notify(err.message));
  load();
  return () => {
    alive = false;
    clearTimeout(debounce);
  };
}

export function pager(footer, state, total, size, load) {
  clear(footer);
  const pages = Math.max(1, Math.ceil(total / size));
  footer.append(
    h("button", { disabled: state.page <= 1, onclick: () => { state.page -= 1; load(); } }, "Previous"),
    h("span", { class: "muted", text: ` page ${state.page} of ${pages} (${total}) ` }),
    h("button", { disabled: state.page >= pages, onclick: () => { state.page += 1; load(); } }, "Next"),
  );
}
