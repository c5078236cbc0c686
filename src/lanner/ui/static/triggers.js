// Triggers: every stored trigger context (a deployed flow's Schedules), with its
// next and last dates, and enable/disable and unlock actions (Kestra's
// /triggers API, as `lanner triggers` does them).
import { call } from "./api.js";
import { clear, every, flowHref, h, link, notify, when } from "./dom.js";
import { pager } from "./flows.js";

const SIZE = 50;
const REFRESH_MS = 5000;

export function render(main, { query }) {
  const state = { q: query.get("q") || "", page: 1 };
  const search = h("input", { type: "search", id: "trigger-search", placeholder: "Search triggers", value: state.q });
  const body = h("tbody");
  const footer = h("div", { class: "pager" });
  main.append(
    h("div", { class: "title" }, h("h1", { text: "Triggers" })),
    h("div", { class: "filters" }, search),
    h("table", { class: "list", id: "triggers" },
      h("thead", {}, h("tr", {}, ["Flow", "Trigger", "Type", "Next", "Last", "Locked", ""].map((t) => h("th", { text: t })))),
      body),
    footer,
  );

  const post = (path, body) => call(path, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
  async function act(label, run) {
    try {
      await run();
      notify(`${label}: done`, "info");
      await load();
    } catch (err) {
      notify(err.message);
    }
  }

  let seq = 0;
  async function load() {
    const mine = ++seq;
    const params = { page: state.page, size: SIZE };
    if (state.q) params["filters[q][EQUALS]"] = state.q;
    const answer = await call("/triggers/search", { params });
    if (mine !== seq) return;
    clear(body);
    for (const { trigger, state: s } of answer.results) {
      const ids = { namespace: s.namespace, flowId: s.flowId, triggerId: s.triggerId };
      const key = `${s.namespace}.${s.flowId}.${s.triggerId}`;
      body.append(h("tr", { "data-trigger": key },
        h("td", {}, link(flowHref(s.namespace, s.flowId), `${s.namespace}.${s.flowId}`)),
        h("td", { text: s.triggerId }),
        h("td", { class: "muted small", text: ((trigger && trigger.type) || "").split(".").pop() }),
        h("td", { text: s.disabled ? "disabled" : when(s.nextExecutionDate) }),
        h("td", { text: when(s.lastTriggeredDate || null) }),
        h("td", { text: s.locked ? "yes" : "" }),
        h("td", {},
          h("button", { class: "toggle", onclick: () => act(s.disabled ? "Enabled" : "Disabled", () =>
            post("/triggers/set-disabled/by-triggers", { triggers: [ids], disabled: !s.disabled })) }, s.disabled ? "Enable" : "Disable"),
          s.locked ? h("button", { class: "unlock", onclick: () => act("Unlocked", () =>
            post(`/triggers/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.flowId)}/${encodeURIComponent(s.triggerId)}/unlock`, {})) }, "Unlock") : null),
      ));
    }
    if (!answer.results.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted", text: "No trigger: deploy a flow with a Schedule and start a server." })));
    pager(footer, state, answer.total, SIZE, () => load().catch((err) => notify(err.message)));
  }

  let debounce = null;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      state.q = search.value.trim();
      state.page = 1;
      load().catch((err) => notify(err.message));
    }, 200);
  });
  const stop = every(REFRESH_MS, load);
  return () => {
    stop();
    clearTimeout(debounce);
  };
}
