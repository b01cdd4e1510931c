// A circuit's lines as bars: per line, what is allocated and what is measured against the
// limit (a mark), drawn to one scale, with the values in text beside them (the bars repeat the
// text for the eye and are hidden from assistive technology).

import { h } from "../dom.js";
import { current } from "../format.js";

function bar(kind, amps, scale) {
  const node = h("div", { class: `level ${kind}` });
  node.style.width = `${Math.min(100, (100 * amps) / scale)}%`; // CSSOM: allowed by the CSP
  return node;
}

function line(name, view) {
  const limit = view.maxCurrent;
  const allocated = view.allocated[name] ?? 0;
  const measured = view.measured[name] ?? 0;
  const held = (view.reserved?.[name] ?? 0) + (view.uncontrolled?.[name] ?? 0);
  const scale = Math.max(limit, allocated, measured, 1);
  const mark = h("div", { class: "limit-mark" });
  mark.style.left = `${(100 * limit) / scale}%`;
  const words = [`${current(allocated)} allocated`, `${current(measured)} measured`, `limit ${current(limit)}`];
  if (held > 0) words.push(`${current(held)} held back`);
  return h(
    "div",
    { class: "phase", dataset: { line: name } },
    h("span", { class: "phase-name", text: name }),
    h("div", { class: "phase-track", "aria-hidden": "true" }, bar("allocated", allocated, scale), bar("measured", measured, scale), mark),
    h("span", { class: "phase-values", text: words.join(" · ") }),
  );
}

/** The bars of an allocation document (GET /circuits/{id}/allocation). */
export function phaseBars(view) {
  const lines = Object.keys(view.allocated).sort();
  return h(
    "div",
    { class: "phases", role: "group", "aria-label": "Per line: allocated, measured and limit" },
    h(
      "p",
      { class: "legend", "aria-hidden": "true" },
      h("span", { class: "key allocated" }),
      " allocated ",
      h("span", { class: "key measured" }),
      " measured ",
      h("span", { class: "key limit" }),
      " limit",
    ),
    lines.map((name) => line(name, view)),
  );
}
