// The router: one page, routed on the path under /ui/. Each page module's
// render(main, params) returns a cleanup that stops its polling.
import { go, notify } from "./dom.js";

// Each page's module is imported when it is opened: a page loads only what it
// uses (index.html preloads them, for an execution's page only its own).
const flows = () => import("./flows.js");
const flow = () => import("./flow.js");
const executions = () => import("./executions.js");
const execution = () => import("./execution.js");
const dashboard = () => import("./dashboard.js");
const triggers = () => import("./triggers.js");
const kv = () => import("./kv.js");
const nsfiles = () => import("./nsfiles.js");

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
let routed = 0;

async function route() {
  const path = location.pathname;
  const main = document.getElementById("main");
  const mine = ++routed;
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
    const page = await target.page();
    // Another page was asked meanwhile: it draws, not this one.
    if (mine !== routed) return;
    main.replaceChildren();
    cleanup = page.render(main, { ...(target.params || {}), query: new URLSearchParams(location.search) }) || null;
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
