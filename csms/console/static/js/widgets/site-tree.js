// The site tree (GET /site-tree): networks, sites, areas, their chargers and live socket counts.

import { h, fill, badge } from "../dom.js";

function counts(node) {
  return h(
    "span",
    { class: "counts" },
    badge(`${node.onlineSocket} online`, node.onlineSocket ? "good" : "neutral"),
    badge(`${node.offlineSocket} offline`, node.offlineSocket ? "bad" : "neutral"),
    badge(`${node.errorSocket} error`, node.errorSocket ? "warn" : "neutral"),
  );
}

function chargerLink(id) {
  return h("li", {}, h("a", { href: `#/chargers/${encodeURIComponent(id)}` }, id));
}

function kpiLink(item) {
  const scope = item.groupType === "network" ? "network" : item.groupType === "unassigned" ? null : "site";
  if (!scope) return null;
  return h("a", { class: "kpi-link", href: `#/kpis?scope=${scope}:${encodeURIComponent(item.id)}`, "aria-label": `KPIs of ${item.groupName ?? item.id}` }, "KPIs");
}

function node(item, depth) {
  const type = item.groupType === "unassigned" ? "not on a site" : item.groupType;
  const label = h("span", { class: "node-name" }, item.groupName ?? item.id, h("span", { class: "node-type", text: ` ${type}` }));
  return h(
    "li",
    { class: "tree-node", dataset: { nodeId: item.id }, "aria-label": `${item.groupName ?? item.id}: ${item.onlineSocket} online, ${item.offlineSocket} offline, ${item.errorSocket} error` },
    h("div", { class: "node-head" }, label, h("span", { class: "chips" }, counts(item), kpiLink(item))),
    item.chargers.length ? h("ul", { class: "chargers", "aria-label": `Chargers of ${item.groupName ?? item.id}` }, item.chargers.map(chargerLink)) : null,
    item.subgroups.length ? h("ul", { class: "subtree" }, item.subgroups.map((child) => node(child, depth + 1))) : null,
  );
}

/** Sums the roots' counts: the whole estate's sockets. */
export function totals(roots) {
  const sum = { onlineSocket: 0, offlineSocket: 0, errorSocket: 0, chargers: new Set() };
  const walk = (item) => {
    item.chargers.forEach((id) => sum.chargers.add(id));
    item.subgroups.forEach(walk);
  };
  for (const root of roots) {
    sum.onlineSocket += root.onlineSocket;
    sum.offlineSocket += root.offlineSocket;
    sum.errorSocket += root.errorSocket;
    walk(root);
  }
  return sum;
}

export function renderSiteTree(container, roots) {
  if (roots.length === 0) {
    fill(container, h("p", { class: "empty", text: "No networks, sites or chargers yet." }));
    return;
  }
  fill(container, h("ul", { class: "tree" }, roots.map((root) => node(root, 0))));
}

/**
 * The site tree (GET /site-tree?excludeDetails=true) as options of a select, indented by depth:
 * ["network:ID", "Network name"], ["site:ID", "— Site name"]... The unassigned node is no scope
 * of its own; the sites under it (those of no network) are.
 */
export function scopeOptions(roots) {
  const options = [];
  const walk = (node, depth) => {
    const scope = node.type === "network" ? "network" : "site";
    options.push([`${scope}:${node.id}`, `${"— ".repeat(depth)}${node.name ?? node.id}${scope === "network" ? " (network)" : ""}`]);
    for (const child of node.subgroups ?? []) walk(child, depth + 1);
  };
  for (const root of roots) {
    if (root.type === "unassigned") for (const child of root.subgroups ?? []) walk(child, 0);
    else walk(root, 0);
  }
  return options;
}
