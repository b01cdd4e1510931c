// A filter form whose values live in the page's hash ("#/alerts?status=Triggered&siteId=depot"),
// so that a filtered list can be linked to, reloaded and gone back to. Submitting it navigates;
// the router renders the page again with the new query.

import { listAll } from "../api.js";
import { h } from "../dom.js";
import { fromLocalInput, localInput } from "../format.js";

let sitesRead = null;

/** [[id, "name (type)"], ...] of every site, for a select (read once per page load). */
export function siteOptions() {
  sitesRead ??= listAll("/sites")
    .then((sites) => sites.map((s) => [s.id, s.name === s.id ? s.id : `${s.name} (${s.id})`]))
    .catch((error) => {
      sitesRead = null;
      throw error;
    });
  return sitesRead;
}

/** A time as a datetime-local value to the minute (a filter needs no seconds). */
function minutes(iso) {
  return localInput(iso).slice(0, 16);
}

function control(id, field, query) {
  const value = query.get(field.name) ?? "";
  switch (field.type) {
    case "select":
      return h(
        "select",
        { id, name: field.name },
        field.options.map(([v, text]) => h("option", { value: v, text, selected: v === value })),
      );
    case "datetime": {
      // `initial` (ISO) is shown when the query has none, and left out of the query unless
      // changed (so "the last 7 days" stays relative to now).
      const initial = field.initial ? minutes(field.initial) : "";
      return h("input", { id, name: field.name, type: "datetime-local", value: value ? minutes(value) : initial, dataset: { initial: value ? "" : initial } });
    }
    default:
      return h("input", { id, name: field.name, type: "text", autocomplete: "off", value, placeholder: field.placeholder ?? null });
  }
}

function checks(id, field, query) {
  const chosen = new Set(query.getAll(field.name));
  return h(
    "fieldset",
    { class: "checks", id },
    h("legend", { text: field.label }),
    field.options.map(([v, text]) => {
      const boxId = `${id}-${v}`;
      return h("span", {}, h("input", { type: "checkbox", id: boxId, name: field.name, value: v, checked: chosen.has(v) }), h("label", { for: boxId, text }));
    }),
  );
}

/**
 * fields: [{name, label, type: "text"|"select"|"datetime"|"checks", options?: [[value, text]],
 * initial?: an ISO time a datetime shows when the query has none}].
 * Returns the form; submitting goes to `#${path}?<the values>` (empty ones left out).
 */
export function filterForm({ id, label, path, fields, query, submit = "Apply filters", hint = null }) {
  const nodes = fields.map((field) => {
    const fieldId = `${id}-${field.name}`;
    if (field.type === "checks") return checks(fieldId, field, query);
    return h("div", { class: "field" }, h("label", { for: fieldId, text: field.label }), control(fieldId, field, query));
  });
  const form = h(
    "form",
    { class: "filters", id, "aria-label": label },
    h("div", { class: "filter-fields" }, nodes),
    h("div", { class: "filter-end" }, h("button", { type: "submit" }, submit), h("a", { href: `#${path}` }, "Clear filters"), hint ? h("small", { class: "hint", text: hint }) : null),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const out = new URLSearchParams();
    for (const field of fields) {
      const controls = [...form.querySelectorAll(`[name="${field.name}"]`)];
      for (const c of controls) {
        if (c.type === "checkbox" && !c.checked) continue;
        if (c.dataset.initial && c.value === c.dataset.initial) continue;
        const value = field.type === "datetime" ? fromLocalInput(c.value) : c.value.trim();
        if (value) out.append(field.name, value);
      }
    }
    const search = out.toString();
    const target = `#${path}${search ? `?${search}` : ""}`;
    // The same filters again: no hashchange, so ask the router to read the page again.
    if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = target;
  });
  return form;
}

/** The query's values for the API, by name (repeated names as lists); empty ones left out. */
export function apiQuery(query, names) {
  const out = {};
  for (const name of names) {
    const values = query.getAll(name).filter(Boolean);
    if (values.length) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}
