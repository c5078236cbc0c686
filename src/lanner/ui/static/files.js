// Outputs as JSON in which each `kestra://` URI (a task's output file, an
// `outputFiles` entry, a FILE input) is a link that downloads the file through
// the API (`GET /executions/{id}/file?path=...`, same origin, so the browser's
// basic credentials go with it), with a *preview* of a small text file.
import { API, call } from "./api.js";
import { clear, h, notify, pretty } from "./dom.js";

// A preview reads at most this much (the API's metas say the size first).
const PREVIEW_BYTES = 64 * 1024;
const URI = /^kestra:\/\/\//;

export const fileHref = (executionId, uri) =>
  `${API}/executions/${encodeURIComponent(executionId)}/file?path=${encodeURIComponent(uri)}`;

async function preview(executionId, uri, into) {
  const metas = await call(`/executions/${encodeURIComponent(executionId)}/file/metas`, { params: { path: uri } });
  const name = uri.split("/").pop();
  if (metas.size > PREVIEW_BYTES) {
    clear(into).append(h("p", { class: "muted", text: `${name}: ${metas.size} bytes, too large to preview; download it.` }));
    return;
  }
  const resp = await fetch(fileHref(executionId, uri));
  if (!resp.ok) throw new Error(`${name}: ${resp.status} ${resp.statusText}`);
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(await resp.arrayBuffer());
  } catch {
    text = null;
  }
  if (text === null || text.includes("\0")) clear(into).append(h("p", { class: "muted", text: `${name}: not text, download it.` }));
  else clear(into).append(h("div", { class: "muted small", text: `${name} (${metas.size} bytes)` }), h("pre", { class: "json preview", "data-preview": uri, text }));
}

// `value` as indented JSON; its file URIs as download links, each with a preview
// button that shows the file in `previewBox`. Plain text when there is no URI
// (the common case, and the fast one on a page of 1,000 task runs).
export function outputJson(value, executionId, previewBox, attrs = {}) {
  const text = pretty(value);
  if (!text.includes('"kestra:///')) return h("pre", { class: "json", ...attrs }, text);
  const pre = h("pre", { class: "json", ...attrs });
  let pending = "";
  const flush = () => {
    if (pending) pre.append(pending);
    pending = "";
  };
  const walk = (v, indent) => {
    if (typeof v === "string" && URI.test(v)) {
      flush();
      pre.append(h("a", { href: fileHref(executionId, v), download: v.split("/").pop(), class: "file", "data-file": v, title: `Download ${v.split("/").pop()}` }, JSON.stringify(v)), " ",
        h("button", { type: "button", class: "preview small", "data-preview-of": v, onclick: () => preview(executionId, v, previewBox).catch((err) => notify(err.message)) }, "preview"));
    } else if (Array.isArray(v) && v.length) {
      pending += "[";
      v.forEach((item, i) => {
        pending += `\n${indent}  `;
        walk(item, `${indent}  `);
        if (i < v.length - 1) pending += ",";
      });
      pending += `\n${indent}]`;
    } else if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) {
      const entries = Object.entries(v);
      pending += "{";
      entries.forEach(([key, item], i) => {
        pending += `\n${indent}  ${JSON.stringify(key)}: `;
        walk(item, `${indent}  `);
        if (i < entries.length - 1) pending += ",";
      });
      pending += `\n${indent}}`;
    } else pending += JSON.stringify(v);
  };
  walk(value, "");
  flush();
  return pre;
}
