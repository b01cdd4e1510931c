// Chargers: the registered charge points, searchable, with their live connection and statuses.

import { api } from "../api.js";
import { h, fill, badge, problem, table } from "../dom.js";
import { time, text } from "../format.js";

const PAGE_SIZE = 50;

export function stateBadge(connected) {
  return connected ? badge("Online", "good") : badge("Offline", "bad");
}

export function statusTone(status) {
  if (status === "Faulted") return "warn";
  if (status === "Unavailable") return "bad";
  if (status === "Available") return "good";
  return status ? "info" : "neutral";
}

function connectorChips(cp) {
  const chips = [];
  for (const evse of cp.evses ?? []) {
    if (evse.evseId === 0) continue;
    for (const c of evse.connectors) chips.push(badge(`${evse.evseId}/${c.connectorId} ${c.status ?? "unknown"}`, statusTone(c.status)));
  }
  return chips.length ? h("span", { class: "chips" }, chips) : "—";
}

function row(cp) {
  return h(
    "tr",
    { dataset: { chargePointId: cp.id } },
    h("td", {}, h("a", { href: `#/chargers/${encodeURIComponent(cp.id)}` }, cp.id)),
    h("td", { text: text(cp.name) }),
    h("td", {}, stateBadge(cp.connected)),
    h("td", { text: text(cp.ocppVersion) }),
    h("td", { text: text(cp.siteId) }),
    h("td", { text: text(cp.bootInfo?.model) }),
    h("td", {}, connectorChips(cp)),
    h("td", { text: time(cp.lastSeenAt) }),
  );
}

export const page = {
  path: "/chargers",
  title: "Chargers",
  nav: "Chargers",

  async render(root, _params, { stream, signal }) {
    const byId = new Map();
    const search = h("input", { id: "charger-search", type: "search", name: "search", autocomplete: "off" });
    const listBox = h("div", {}, h("p", { class: "loading", text: "Loading…" }));
    const more = h("button", { type: "button", hidden: true }, "Load more");
    let after = null;
    let query = "";

    const show = () => {
      const rows = [...byId.values()].map(row);
      fill(
        listBox,
        rows.length
          ? table("Chargers", ["Charger", "Name", "State", "OCPP", "Site", "Model", "Connectors", "Last seen"], rows)
          : h("p", { class: "empty", text: query ? `No charger matches “${query}”.` : "No chargers registered yet." }),
      );
    };
    const read = async (reset) => {
      try {
        await readPage(reset);
      } catch (error) {
        fill(listBox, problem(error));
      }
    };
    const readPage = async (reset) => {
      if (reset) {
        byId.clear();
        after = null;
      }
      const page = await api("/charge-points", { query: { search: query, limit: PAGE_SIZE, startingAfter: after } });
      if (signal.aborted) return;
      for (const cp of page.items) byId.set(cp.id, cp);
      after = page.items.length ? page.items[page.items.length - 1].id : after;
      more.hidden = !page.hasMore;
      show();
    };

    const form = h(
      "form",
      { class: "inline", role: "search", on: { submit: (e) => (e.preventDefault(), (query = search.value.trim()), read(true)) } },
      h("label", { for: "charger-search" }, "Search chargers"),
      search,
      h("button", { type: "submit" }, "Search"),
    );
    more.addEventListener("click", () => read(false));
    fill(root, h("h1", { text: "Chargers" }), form, h("section", { class: "card", "aria-label": "Chargers" }, listBox, more));

    // Live: the rows shown follow connections and statuses.
    const update = (id, change) => {
      const cp = byId.get(id);
      if (!cp) return;
      change(cp);
      show();
    };
    stream.on("charger.connected", (e) => update(e.chargePointId, (cp) => Object.assign(cp, { connected: true, ocppVersion: e.ocppVersion ?? cp.ocppVersion })), signal);
    stream.on("charger.disconnected", (e) => update(e.chargePointId, (cp) => (cp.connected = false)), signal);
    stream.on(
      "connector.status",
      (e) =>
        update(e.chargePointId, (cp) => {
          cp.evses ??= [];
          let evse = cp.evses.find((x) => x.evseId === e.evseId);
          if (!evse) cp.evses.push((evse = { evseId: e.evseId, connectors: [] }));
          let c = evse.connectors.find((x) => x.connectorId === e.connectorId);
          if (!c) evse.connectors.push((c = { connectorId: e.connectorId }));
          Object.assign(c, { status: e.status, errorCode: e.errorCode, updatedAt: e.updatedAt });
        }),
      signal,
    );
    stream.on("stream.resync", () => read(true), signal);
    await readPage(true);
  },
};
