// A tiny element builder: text always goes in as text (never as HTML), so
// nothing a flow or a log says can become markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value" || key === "checked" || key === "disabled" || key === "selected") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const TERMINATED = new Set(["SUCCESS", "WARNING", "FAILED", "KILLED", "CANCELLED", "SKIPPED", "RETRIED"]);
export const terminated = (state) => TERMINATED.has(state);

export const STATES = [
  "CREATED", "QUEUED", "RUNNING", "PAUSED", "RESTARTED", "KILLING", "SUCCESS", "WARNING",
  "FAILED", "KILLED", "CANCELLED", "RETRYING", "RETRIED", "SKIPPED",
];

export function badge(state) {
  return h("span", { class: `state state-${(state || "").toLowerCase()}`, text: state || "" });
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// The banner tells the last error (or success) of an action until the next one.
export function notify(message, kind = "error") {
  const banner = document.getElementById("banner");
  banner.className = `banner banner-${kind}`;
  banner.textContent = message;
  banner.hidden = !message;
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export const flowHref = (ns, id) => `/ui/flows/${encodeURIComponent(ns)}/${encodeURIComponent(id)}`;
export const executionHref = (id) => `/ui/executions/${encodeURIComponent(id)}`;

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

// Another page of the UI, without a reload (app.js routes on popstate).
export function go(href, replace = false) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

// Calls fn now and every `ms` while the tab is visible; returns the stop.
export function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    if (document.visibilityState !== "hidden") {
      try {
        await fn();
      } catch (err) {
        notify(err.message);
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
