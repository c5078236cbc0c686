// The router: one page, routed on the path under /ui/. Each page module's
// render(main, params) returns a cleanup that stops its polling.
import { go, notify } from "./dom.js";
import * as flows from "./flows.js";
import * as flow from "./flow.js";
import * as executions from "./executions.js";
import * as execution from "./execution.js";
import * as dashboard from "./dashboard.js";
import * as triggers from "./triggers.js";
import * as kv from "./kv.js";
import * as nsfiles from "./nsfiles.js";

const ROUTES = [
  [/^\/ui\/?$/, () => ({ redirect: "/ui/flows" })],
  [/^\/ui\/flows\/?$/, () => ({ page: flows, nav: "flows" })],
  [/^\/ui\/flows\/new\/?$/, () => ({ page: flow, nav: "flows", params: { isNew: true } })],
  [/^\/ui\/flows\/([^/]+)\/([^/]+)\/?$/, (m) => ({ page: flow, nav: "flows", params: { namespace: decodeURIComponent(m[1]), id: decodeURIComponent(m[2]) } })],
  [/^\/ui\/dashboard\/?$/, () => ({ page: dashboard, nav: "dashboard" })],
  [/^\/ui\/executions\/?$/, () => ({ page: executions, nav: "executions" })],
  [/^\/ui\/triggers\/?$/, () => ({ page: triggers, nav: "triggers" })],
  [/^\/ui\/kv\/?$/, () => ({ page: kv, nav: "kv" })],
  [/^\/ui\/files\/?$/, () => ({ page: nsfiles, nav: "files" })],
  [/^\/ui\/executions\/([^/]+)\/?$/, (m) => ({ page: execution, nav: "executions", params: { id: decodeURIComponent(m[1]) } })],
];

let cleanup = null;

function route() {
  const path = location.pathname;
  const main = document.getElementById("main");
  if (cleanup) cleanup();
  cleanup = null;
  notify("");
  for (const [pattern, make] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    const target = make(match);
    if (target.redirect) {
      history.replaceState(null, "", target.redirect);
      return route();
    }
    for (const a of document.querySelectorAll("[data-nav]")) {
      a.classList.toggle("active", a.dataset.nav === target.nav);
    }
    main.replaceChildren();
    cleanup = target.page.render(main, { ...(target.params || {}), query: new URLSearchParams(location.search) }) || null;
    return;
  }
  main.replaceChildren();
  main.textContent = `No page at ${path}.`;
}


// Links inside the UI change the page without a reload.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith("/ui/") || a.target || a.hasAttribute("download")) return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", route);
route();
