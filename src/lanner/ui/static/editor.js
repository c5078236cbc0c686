// The YAML editor: a textarea under a highlighted copy of its text, with line
// numbers and the validator's problems marked on their lines. No library: the
// highlighting is a line-by-line tokenizer for what flows hold (keys, strings,
// numbers, booleans, comments, Pebble expressions).
import { h } from "./dom.js";

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function values(text) {
  // Pebble expressions first, then quoted strings, numbers and constants.
  return escape(text).replace(
    /(\{\{.*?\}\}|\{%.*?%\})|("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')|\b(true|false|null|~)\b|(^|\s)(-?\d+(?:\.\d+)?)(?=\s|$)/g,
    (all, expr, str, constant, lead, num) => {
      if (expr) return `<span class="tok-expr">${expr}</span>`;
      if (str) return `<span class="tok-string">${str}</span>`;
      if (constant) return `<span class="tok-const">${constant}</span>`;
      if (num) return `${lead}<span class="tok-number">${num}</span>`;
      return all;
    },
  );
}

export function highlightLine(line) {
  const comment = line.match(/^(.*?)((?:^|\s)#.*)$/);
  let code = line;
  let tail = "";
  if (comment && !/["']/.test(comment[1])) {
    code = comment[1];
    tail = `<span class="tok-comment">${escape(comment[2])}</span>`;
  }
  const key = code.match(/^(\s*(?:-\s+)*)([^\s:#"'{}][^:#{}]*?)(:)(\s.*|)$/);
  if (key) {
    return `${escape(key[1])}<span class="tok-key">${escape(key[2])}</span>${key[3]}${values(key[4])}${tail}`;
  }
  return values(code) + tail;
}

export function createEditor(source, { onChange, readOnly = false } = {}) {
  const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  const pre = h("pre", { class: "highlight", "aria-hidden": "true" });
  const area = h("textarea", { class: "source", spellcheck: "false", autocapitalize: "off", wrap: "off", "aria-label": "Flow YAML", readonly: readOnly });
  area.value = source;
  const el = h("div", { class: "editor" }, gutter, h("div", { class: "code" }, pre, area));
  let problems = new Map();

  function paint() {
    const lines = area.value.split("\n");
    pre.innerHTML = lines
      .map((line, i) => {
        const problem = problems.get(i + 1);
        const html = highlightLine(line) || " ";
        return problem ? `<span class="err-line">${html}</span>` : html;
      })
      .join("\n") + "\n";
    gutter.replaceChildren(
      ...lines.map((_, i) => {
        const problem = problems.get(i + 1);
        return h("div", { class: problem ? "ln err" : "ln", title: problem || null, text: i + 1 });
      }),
    );
    sync();
  }

  function sync() {
    pre.scrollTop = area.scrollTop;
    pre.scrollLeft = area.scrollLeft;
    gutter.scrollTop = area.scrollTop;
  }

  area.addEventListener("input", () => {
    paint();
    if (onChange) onChange(area.value);
  });
  area.addEventListener("scroll", sync);
  area.addEventListener("keydown", (event) => {
    if (event.key === "Tab" && !event.shiftKey && !readOnly) {
      // YAML is indented with spaces: Tab inserts two.
      event.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input"));
    }
  });
  paint();

  return {
    el,
    get value() {
      return area.value;
    },
    set value(text) {
      area.value = text;
      paint();
      if (onChange) onChange(text);
    },
    setProblems(list) {
      problems = new Map();
      for (const p of list) if (p.line) problems.set(p.line, (problems.get(p.line) ? problems.get(p.line) + "\n" : "") + p.message);
      paint();
    },
    focusLine(line, column = 1) {
      const lines = area.value.split("\n");
      let offset = 0;
      for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i].length + 1;
      offset += Math.max(0, Math.min(column - 1, (lines[line - 1] || "").length));
      area.focus();
      area.setSelectionRange(offset, offset);
      const lineHeight = area.scrollHeight / Math.max(1, lines.length);
      area.scrollTop = Math.max(0, (line - 5) * lineHeight);
      sync();
    },
  };
}

// `<flow>:LINE:COLUMN: path: message` lines of the validate endpoint, located.
export function parseConstraints(text) {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const m = l.match(/^[^:\s]*:(\d+)(?::(\d+))?: (.*)$/);
      return m ? { line: Number(m[1]), column: m[2] ? Number(m[2]) : 1, message: m[3] } : { line: null, column: null, message: l };
    });
}

// A line diff (longest common subsequence): [{op: " "|"-"|"+", text}].
export function diffLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: " ", text: a[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: "-", text: a[i++] });
    else out.push({ op: "+", text: b[j++] });
  }
  while (i < n) out.push({ op: "-", text: a[i++] });
  while (j < m) out.push({ op: "+", text: b[j++] });
  return out;
}
