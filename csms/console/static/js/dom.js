// Building the page from data without innerHTML: text is always text, never markup.

/**
 * h("a", {href: "#/x", class: "link", on: {click: fn}}, "text", child, [more], null)
 * Props: `class`, `text`, `on` (event listeners), `dataset`, booleans (true sets the attribute,
 * false/null/undefined leaves it out), anything else an attribute. Children: nodes, strings,
 * numbers, arrays of them; null and undefined are skipped.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "on") for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "value" && "value" in node) node.value = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A section with a heading (h2) whose text names it for assistive technology. */
let sections = 0;
export function section(title, ...children) {
  const id = `section-${++sections}`;
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id, text: title }), ...children);
}

/** A table with a caption (its accessible name), headers and rows; wrapped so it scrolls sideways. */
export function table(caption, headers, rows, { captionHidden = true } = {}) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: captionHidden ? "visually-hidden" : null, text: caption }),
      h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col", text })))),
      h("tbody", {}, rows),
    ),
  );
}

/** A short text badge; the word carries the meaning, the colour only repeats it. */
export function badge(text, tone = "neutral") {
  return h("span", { class: `badge ${tone}`, text });
}

/** A visible message for errors, in words. */
export function problem(error) {
  return h("p", { class: "problem", role: "alert", text: error?.words ?? error?.message ?? String(error) });
}

/** A definition list of [label, value] pairs (value: text or nodes), laid out as a grid. */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([label, value]) => h("div", {}, h("dt", { text: label }), h("dd", {}, value))),
  );
}

/** A figure of a `dl.figures`: [its node, the `dd` whose text is the value]. */
export function figure(label, id) {
  const value = h("dd", { id, text: "…" });
  return [h("div", { class: "figure" }, h("dt", {}, label), value), value];
}
