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

// `suggest(text, cursor)` gives completions ({from, items: [{text, insert, detail}]}) or
// null, or a promise of them.
export function createEditor(source, { onChange, readOnly = false, suggest = null } = {}) {
  const gutter = h("div", { class: "gutter", "aria-hidden": "true" });
  const pre = h("pre", { class: "highlight", "aria-hidden": "true" });
  const area = h("textarea", { class: "source", spellcheck: "false", autocapitalize: "off", wrap: "off", "aria-label": "Flow YAML", readonly: readOnly });
  area.value = source;
  const menu = h("ul", { class: "completions", id: "completions", role: "listbox", hidden: true });
  const probe = h("span", { class: "probe", "aria-hidden": "true", text: "MMMMMMMMMM" });
  const code = h("div", { class: "code" }, pre, area, menu, probe);
  const el = h("div", { class: "editor" }, gutter, code);
  let problems = new Map();
  let open = null; // {from, items, index}

  function closeMenu() {
    open = null;
    menu.hidden = true;
  }

  function accept(item) {
    const cursor = area.selectionStart;
    area.setRangeText(item.insert, open.from, cursor, "end");
    closeMenu();
    paint();
    if (onChange) onChange(area.value);
  }

  function drawMenu() {
    menu.replaceChildren(...open.items.map((item, i) => h("li", {
      class: i === open.index ? "active" : "", role: "option", "data-value": item.text,
      onmousedown: (event) => { event.preventDefault(); accept(item); },
    }, h("span", { class: "completion-name", text: item.text }), item.detail ? h("span", { class: "muted small", text: ` ${item.detail}` }) : null)));
    const before = area.value.slice(0, open.from);
    const line = before.split("\n").length - 1;
    const column = open.from - (before.lastIndexOf("\n") + 1);
    const charWidth = probe.getBoundingClientRect().width / 10 || 8;
    menu.style.top = `${8 + (line + 1) * 20 - area.scrollTop}px`;
    menu.style.left = `${10 + column * charWidth - area.scrollLeft}px`;
    menu.hidden = false;
    const active = menu.children[open.index];
    if (active && active.scrollIntoView) active.scrollIntoView({ block: "nearest" });
  }

  async function complete(forced) {
    if (!suggest) return;
    const cursor = area.selectionStart;
    if (cursor !== area.selectionEnd) return closeMenu();
    const text = area.value;
    const found = await suggest(text, cursor);
    // The text moved on while the suggestions were computed: a newer call will answer.
    if (area.value !== text || area.selectionStart !== cursor) return;
    const word = found ? area.value.slice(found.from, cursor) : "";
    if (!found || !found.items.length || (!forced && !word) || (found.items.length === 1 && found.items[0].text === word)) return closeMenu();
    open = { from: found.from, items: found.items.slice(0, 50), index: 0 };
    drawMenu();
  }

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

  area.addEventListener("input", (event) => {
    paint();
    if (onChange) onChange(area.value);
    if (event.inputType && event.inputType.startsWith("insert") && /[\w.$-]$/.test(area.value.slice(0, area.selectionStart))) complete(false).catch(closeMenu);
    else closeMenu();
  });
  area.addEventListener("scroll", () => {
    sync();
    closeMenu();
  });
  area.addEventListener("blur", closeMenu);
  area.addEventListener("keydown", (event) => {
    if (event.ctrlKey && (event.key === " " || event.code === "Space")) {
      event.preventDefault();
      complete(true).catch(closeMenu);
      return;
    }
    if (open) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const n = open.items.length;
        open.index = (open.index + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
        drawMenu();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        accept(open.items[open.index]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        closeMenu();
        return;
      }
    }
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
