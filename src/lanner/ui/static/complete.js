// Completion in the YAML editor from the flow's JSON Schema (the task types
// this server knows, with their properties): property names where a key is
// typed, task type names after `type:`. The YAML around the cursor is read by
// its indentation only, which is how flows are written.

const KEY_AT = /^(\s*)((?:-\s+)*)([\w$.-]*)$/;
const TYPE_AT = /^(\s*)((?:-\s+)*)type:\s*([\w.$-]*)$/;

function shape(line) {
  const m = line.match(/^(\s*)((?:-\s+)*)([^\s:#][^:#]*?)\s*:(?:\s+(.*))?$/);
  if (!m) return null;
  return { indent: m[1].length, item: m[2].length > 0, col: m[1].length + m[2].length, key: m[3], value: (m[4] || "").trim() };
}

const blank = (line) => !line.trim() || line.trim().startsWith("#");

// The path of keys ("[]" for a list item) from the root to the object whose
// keys sit at column `col` on line `at`, and the keys (with values) it has.
export function context(lines, at, col, startsItem) {
  const siblings = new Map();
  const path = [];
  let line = at;
  let c = col;
  let item = startsItem;
  let dash = startsItem ? col - 2 : 0;
  let first = true;
  for (let guard = 0; guard < 200; guard++) {
    let start = line;
    const own = shape(lines[line] || "");
    if (!item && own && own.item && own.col === c) {
      item = true;
      dash = own.indent;
    }
    if (!item) {
      // Up through the object's keys to its first one (a "- key" line starts a list item).
      for (let i = line - 1; i >= 0; i--) {
        const s = blank(lines[i]) ? null : shape(lines[i]);
        if (!s || s.col > c) continue;
        if (s.col < c) break;
        if (first) siblings.set(s.key, s.value);
        start = i;
        if (s.item) {
          item = true;
          dash = s.indent;
          break;
        }
      }
    }
    if (first) {
      // And down to its last key.
      for (let i = at + 1; i < lines.length; i++) {
        const s = blank(lines[i]) ? null : shape(lines[i]);
        if (!s || s.col > c) continue;
        if (s.col < c || s.item) break;
        siblings.set(s.key, s.value);
      }
      first = false;
    }
    if (!item && c === 0) return { path, siblings };
    if (item) path.unshift("[]");
    // The key holding this object (or the list this item belongs to).
    let parent = null;
    for (let i = start - 1; i >= 0; i--) {
      const s = blank(lines[i]) ? null : shape(lines[i]);
      if (!s) continue;
      if (item ? (s.item ? s.indent < dash : s.col <= dash) : s.col < c) {
        parent = { s, i };
        break;
      }
    }
    if (!parent) return { path, siblings };
    path.unshift(parent.s.key);
    line = parent.i;
    c = parent.s.col;
    item = false;
  }
  return { path, siblings };
}

function deref(schema, node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 20; i++) n = schema.$defs[n.$ref.replace("#/$defs/", "")];
  return n;
}

function options(schema, node) {
  const n = deref(schema, node);
  if (!n) return [];
  const alternatives = n.anyOf || n.oneOf;
  if (!alternatives) return [n];
  return alternatives.map((a) => deref(schema, a)).filter((a) => a && a.type !== "null").flatMap((a) => options(schema, a));
}

const typeNames = (option) => {
  const t = option.properties && option.properties.type;
  if (!t) return [];
  return t.enum || (t.const ? [t.const] : []);
};

function objectAt(schema, path, typeValue) {
  let candidates = [schema];
  for (const segment of path) {
    const next = [];
    for (const c of candidates) {
      for (const o of options(schema, c)) {
        if (segment === "[]" && o.items) next.push(o.items);
        else if (o.properties && o.properties[segment]) next.push(o.properties[segment]);
      }
    }
    candidates = next;
    if (!candidates.length) return [];
  }
  const objects = candidates.flatMap((c) => options(schema, c)).filter((o) => o.properties);
  if (typeValue) {
    const typed = objects.filter((o) => typeNames(o).includes(typeValue));
    if (typed.length) return typed;
  }
  return objects;
}

// The suggestions at the cursor: {from, items: [{text, insert, detail}]}, or null.
export function suggest(schema, text, cursor) {
  const before = text.slice(0, cursor);
  const lineStart = before.lastIndexOf("\n") + 1;
  const lines = text.split("\n");
  const at = before.split("\n").length - 1;
  const head = before.slice(lineStart);
  const typed = head.match(TYPE_AT);
  if (typed) {
    const col = typed[1].length + typed[2].length;
    const { path } = context(lines, at, col, typed[2].length > 0);
    const objects = objectAt(schema, path, null);
    const names = [...new Set(objects.map((o) => typeNames(o)[0]).filter(Boolean))];
    const word = typed[3];
    return { from: cursor - word.length, items: names.filter((n) => n.toLowerCase().includes(word.toLowerCase())).sort().map((n) => ({ text: n, insert: n, detail: "" })) };
  }
  const key = head.match(KEY_AT);
  if (!key) return null;
  const col = key[1].length + key[2].length;
  const { path, siblings } = context(lines, at, col, key[2].length > 0);
  const objects = objectAt(schema, path, siblings.get("type") || null);
  const word = key[3];
  const seen = new Set();
  const items = [];
  for (const o of objects) {
    for (const [name, prop] of Object.entries(o.properties)) {
      if (seen.has(name) || (siblings.has(name) && name !== word) || !name.toLowerCase().startsWith(word.toLowerCase())) continue;
      seen.add(name);
      const p = deref(schema, prop) || {};
      items.push({ text: name, insert: `${name}: `, detail: p.description || p.title || "" });
    }
  }
  return { from: cursor - word.length, items };
}
