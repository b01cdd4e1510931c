// A form from a JSON Schema, as GET /actions gives each action's body: one labelled control per
// field (nested objects as fieldsets), the schema's defaults and limits filled in, and a reader
// that turns the controls back into the body (empty optional fields are left out).

import { h } from "./dom.js";
import { localInput } from "./format.js";

const LONG_TEXT = 200; // longer strings (certificates, signatures) get a text area

function resolve(node, defs) {
  if (node?.$ref) return defs[node.$ref.split("/").pop()] ?? {};
  return node ?? {};
}

/** The field's own schema without the null alternative, and whether null was allowed. */
function unwrap(node, defs) {
  const schema = resolve(node, defs);
  if (!schema.anyOf) return { schema, nullable: false };
  const variants = schema.anyOf.map((v) => resolve(v, defs)).filter((v) => v.type !== "null");
  const nullable = variants.length < schema.anyOf.length;
  // A decimal is "number or string": a number field.
  const chosen = variants.find((v) => v.type === "number") ?? variants[0] ?? {};
  return { schema: { ...chosen, default: schema.default ?? chosen.default, description: schema.description ?? chosen.description }, nullable };
}

function limits(schema) {
  const parts = [];
  if (schema.minLength !== undefined && schema.maxLength !== undefined) parts.push(`${schema.minLength}–${schema.maxLength} characters`);
  else if (schema.maxLength !== undefined) parts.push(`up to ${schema.maxLength} characters`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum} to ${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`at least ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`at most ${schema.maximum}`);
  if (schema.format === "date-time") parts.push("your local time");
  if (schema.type === "array" && schema.items?.type === "string") parts.push("one per line");
  else if (schema.type === "array" || Object.keys(schema).length === 0 || schema.type === undefined) parts.push("JSON");
  return parts.join(", ");
}

/** The smallest value the schema calls complete (its required fields), as an example. */
function skeleton(node, defs, depth = 0) {
  const { schema } = unwrap(node, defs);
  if (depth > 4) return null;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "object":
      return Object.fromEntries((schema.required ?? []).map((name) => [name, skeleton(schema.properties[name], defs, depth + 1)]));
    case "array":
      return [skeleton(schema.items ?? {}, defs, depth + 1)];
    case "integer":
    case "number":
      return schema.minimum ?? 0;
    case "boolean":
      return false;
    case "string":
      return "";
    default:
      return null;
  }
}

function control(id, schema, required, defs) {
  const attrs = { id, name: id, required };
  if (schema.enum) {
    const options = [...(required ? [] : [""]), ...schema.enum];
    const select = h("select", attrs, options.map((v) => h("option", { value: v, text: v === "" ? "(not set)" : v })));
    select.value = schema.default ?? (required ? schema.enum[0] : "");
    return { node: select, read: () => (select.value === "" ? undefined : select.value), set: (v) => (select.value = v) };
  }
  if (schema.type === "boolean") {
    const box = h("input", { ...attrs, type: "checkbox", required: false, checked: schema.default === true });
    return { node: box, read: () => box.checked, set: (v) => (box.checked = Boolean(v)), inline: true };
  }
  if (schema.type === "integer" || schema.type === "number") {
    const input = h("input", {
      ...attrs,
      type: "number",
      inputmode: schema.type === "integer" ? "numeric" : "decimal",
      step: schema.type === "integer" ? "1" : "any",
      min: schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum : null),
      max: schema.maximum ?? null,
      value: schema.default ?? null,
    });
    return { node: input, read: () => (input.value === "" ? undefined : Number(input.value)), set: (v) => (input.value = v) };
  }
  if (schema.type === "string" && schema.format === "date-time") {
    const input = h("input", { ...attrs, type: "datetime-local", step: "1", value: localInput(schema.default) });
    return { node: input, read: () => (input.value === "" ? undefined : new Date(input.value).toISOString()), set: (v) => (input.value = localInput(v)) };
  }
  if (schema.type === "string") {
    const long = (schema.maxLength ?? 0) > LONG_TEXT;
    const input = long
      ? h("textarea", { ...attrs, rows: 4, maxlength: schema.maxLength, minlength: schema.minLength ?? null })
      : h("input", { ...attrs, type: "text", maxlength: schema.maxLength ?? null, minlength: schema.minLength ?? null, autocomplete: "off" });
    if (schema.default !== undefined && schema.default !== null) input.value = schema.default;
    return { node: input, read: () => (input.value === "" ? undefined : input.value), set: (v) => (input.value = v) };
  }
  if (schema.type === "array" && schema.items?.type === "string") {
    const area = h("textarea", { ...attrs, rows: 3 });
    const read = () => {
      const lines = area.value.split("\n").map((s) => s.trim()).filter(Boolean);
      return lines.length ? lines : undefined;
    };
    return { node: area, read, set: (v) => (area.value = (v ?? []).join("\n")) };
  }
  // Anything else (lists of objects, free JSON): written as JSON.
  const example = skeleton(schema, defs);
  const area = h("textarea", { ...attrs, rows: 4, spellcheck: "false", class: "code", placeholder: example === null ? null : `e.g. ${JSON.stringify(example)}` });
  if (schema.default !== undefined && schema.default !== null) area.value = JSON.stringify(schema.default);
  const read = () => {
    area.setCustomValidity("");
    if (area.value.trim() === "") return undefined;
    try {
      return JSON.parse(area.value);
    } catch {
      area.setCustomValidity("This field must be valid JSON.");
      area.reportValidity();
      throw new SyntaxError("invalid JSON");
    }
  };
  return { node: area, read, set: (v) => (area.value = JSON.stringify(v)) };
}

function objectFields(schema, defs, prefix, path) {
  const required = new Set(schema.required ?? []);
  const fields = [];
  const nodes = [];
  for (const [name, raw] of Object.entries(schema.properties ?? {})) {
    const field = field_(name, raw, defs, prefix, [...path, name], required.has(name));
    fields.push([name, field]);
    nodes.push(field.node);
  }
  const read = () => {
    const body = {};
    for (const [name, field] of fields) {
      const value = field.read();
      if (value !== undefined) body[name] = value;
    }
    return body;
  };
  const byPath = (names) => {
    const [first, ...rest] = names;
    const found = fields.find(([name]) => name === first)?.[1];
    return rest.length ? found?.byPath?.(rest) : found;
  };
  return { nodes, read, byPath };
}

function field_(name, raw, defs, prefix, path, required) {
  const { schema, nullable } = unwrap(raw, defs);
  const id = `${prefix}-${path.join("-")}`;
  if (schema.type === "object" && schema.properties) {
    const inner = objectFields(schema, defs, prefix, path);
    const set = h("fieldset", { class: "nested", id }, h("legend", { text: name }), inner.nodes);
    if (required) return { node: set, read: inner.read, byPath: inner.byPath };
    // An optional object: left out unless asked for.
    const toggleId = `${id}-include`;
    const toggle = h("input", { type: "checkbox", id: toggleId });
    const wrap = h("div", { class: "optional-object" }, h("label", { class: "inline", for: toggleId }, toggle, ` include ${name}`), set);
    set.disabled = true;
    toggle.addEventListener("change", () => (set.disabled = !toggle.checked));
    return { node: wrap, read: () => (toggle.checked ? inner.read() : undefined), byPath: inner.byPath };
  }
  const built = control(id, schema, required && !nullable, defs);
  const hintText = [required ? null : "optional", limits(schema), schema.description].filter(Boolean).join("; ");
  const hintId = `${id}-hint`;
  built.node.setAttribute("aria-describedby", hintId);
  const label = h("label", { for: id }, name, required ? h("span", { class: "required", "aria-hidden": "true", text: " *" }) : null);
  const node = built.inline
    ? h("div", { class: "field inline" }, built.node, label, h("small", { id: hintId, class: "hint", text: hintText }))
    : h("div", { class: "field" }, label, built.node, h("small", { id: hintId, class: "hint", text: hintText }));
  return { node, read: built.read, set: built.set, empty: () => built.read() === undefined };
}

/**
 * The controls for a body schema. Returns {nodes, read(), hint(values)}: `read` builds the body
 * (throws SyntaxError when a JSON field does not parse), `hint` fills empty fields by path
 * ("transactionId" or "chargingProfile.transactionId").
 */
export function schemaFields(schema, prefix) {
  const defs = schema.$defs ?? {};
  const top = objectFields(schema, defs, prefix, []);
  const hint = (values) => {
    for (const [path, value] of Object.entries(values)) {
      const field = top.byPath(path.split("."));
      if (field?.set && field.empty?.() && value !== undefined && value !== null) field.set(value);
    }
  };
  return { nodes: top.nodes, read: top.read, hint };
}
