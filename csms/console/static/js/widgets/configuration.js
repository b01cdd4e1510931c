// A charger's configuration as last read from it (GET /charge-points/{id}/configuration):
// 1.6 keys or 2.0.1 variables, with a filter.

import { api } from "../api.js";
import { h, fill, table } from "../dom.js";
import { time, text } from "../format.js";

function keyRows(keys) {
  return keys.map((k) => h("tr", { dataset: { filter: `${k.key} ${k.value ?? ""}`.toLowerCase() } }, h("td", {}, h("code", { text: k.key })), h("td", { class: "wrap", text: text(k.value) }), h("td", { text: k.readonly ? "read-only" : "writable" }), h("td", { text: time(k.updatedAt) })));
}

function variableRows(variables) {
  return variables.map((v) => {
    const component = [v.component, v.componentInstance].filter(Boolean).join(" / ") + (v.evseId ? ` (EVSE ${v.evseId}${v.connectorId ? `/${v.connectorId}` : ""})` : "");
    const variable = [v.variable, v.variableInstance].filter(Boolean).join(" / ");
    return h(
      "tr",
      { dataset: { filter: `${component} ${variable} ${v.value ?? ""}`.toLowerCase() } },
      h("td", { text: component }),
      h("td", {}, h("code", { text: variable })),
      h("td", { text: text(v.attributeType) }),
      h("td", { class: "wrap", text: `${text(v.value)}${v.unit ? ` ${v.unit}` : ""}` }),
      h("td", { text: text(v.mutability) }),
    );
  });
}

export async function renderConfiguration(container, chargePointId) {
  const config = await api(`/charge-points/${encodeURIComponent(chargePointId)}/configuration`);
  const keys = config.keys ?? [];
  const variables = config.variables ?? [];
  if (keys.length === 0 && variables.length === 0) {
    fill(container, h("p", { class: "empty", text: "Nothing read from this charger yet: send get-configuration to read it." }));
    return;
  }
  const listing = keys.length
    ? table("Configuration keys", ["Key", "Value", "Access", "Read"], keyRows(keys))
    : table("Device model variables", ["Component", "Variable", "Attribute", "Value", "Mutability"], variableRows(variables));
  const filterId = `config-filter-${chargePointId}`;
  const filter = h("input", { id: filterId, type: "search", autocomplete: "off" });
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    for (const row of listing.querySelectorAll("tbody tr")) row.hidden = needle !== "" && !row.dataset.filter.includes(needle);
  });
  fill(
    container,
    h("div", { class: "inline" }, h("label", { for: filterId }, "Filter"), filter),
    config.localListVersion !== null && config.localListVersion !== undefined ? h("p", { class: "hint", text: `Local list version ${config.localListVersion}` }) : null,
    h("div", { class: "scroll-box" }, listing),
  );
}
