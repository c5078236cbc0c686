// Triggers: every stored trigger context (a deployed flow's Schedules), with its
// next and last dates, and enable/disable, unlock and (a Schedule) backfill
// actions (Kestra's /triggers API, as `lanner triggers` does them). The flow
// page's Triggers tab is the same table for one flow.
import { call } from "./api.js";
import { clear, every, flowHref, h, link, notify, when } from "./dom.js";
import { backfillPanel } from "./backfill.js";
import { pager } from "./flows.js";

const SIZE = 50;
const REFRESH_MS = 5000;
const SCHEDULE = /\.Schedule$/;

export function render(main, { query }) {
  const search = h("input", { type: "search", id: "trigger-search", placeholder: "Search triggers", value: query.get("q") || "" });
  const holder = h("div");
  main.append(h("div", { class: "title" }, h("h1", { text: "Triggers" })), h("div", { class: "filters" }, search), holder);
  return triggerTable(holder, { search });
}

// `options`: a search box (the Triggers page), or one flow's namespace, id and
// declared triggers (the flow page: a declared trigger with no stored state,
// a Webhook or a Flow trigger, is listed too).
export function triggerTable(holder, { search = null, namespace = null, flowId = null, declared = [] }) {
  const state = { q: search ? search.value.trim() : "", page: 1 };
  const body = h("tbody");
  const footer = h("div", { class: "pager" });
  const backfill = h("div", { id: "backfill-holder" });
  holder.append(
    h("table", { class: "list", id: "triggers" },
      h("thead", {}, h("tr", {}, ["Flow", "Trigger", "Type", "Next", "Last", "Locked", ""].map((t) => h("th", { text: t })))),
      body),
    footer,
    backfill,
  );
  let closeBackfill = () => {};
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
    if (namespace) {
      params["filters[namespace][EQUALS]"] = namespace;
      params["filters[flowId][EQUALS]"] = flowId;
    }
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
            post(`/triggers/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.flowId)}/${encodeURIComponent(s.triggerId)}/unlock`, {})) }, "Unlock") : null,
          SCHEDULE.test((trigger && trigger.type) || "") ? h("button", { class: "backfill", onclick: () => {
            closeBackfill();
            closeBackfill = backfillPanel(backfill, ids, trigger);
          } }, "Backfill") : null),
      ));
    }
    const stored = new Set(answer.results.map(({ state: s }) => s.triggerId));
    for (const t of declared.filter((d) => d && d.id && !stored.has(d.id))) {
      body.append(h("tr", { "data-trigger": `${namespace}.${flowId}.${t.id}` },
        h("td", { text: `${namespace}.${flowId}` }), h("td", { text: t.id }),
        h("td", { class: "muted small", text: String(t.type || "").split(".").pop() }),
        h("td", { colspan: 4, class: "muted", text: "no stored state (a Webhook or Flow trigger keeps none; a Schedule gets one once a server runs)" })));
    }
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted", text: "No trigger: deploy a flow with a Schedule and start a server." })));
    pager(footer, state, answer.total, SIZE, () => load().catch((err) => notify(err.message)));
  }

  let debounce = null;
  search?.addEventListener("input", () => {
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
    closeBackfill();
    clearTimeout(debounce);
  };
}
