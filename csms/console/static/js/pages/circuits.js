// Circuits: the tree of circuits (GET /circuits), each with what the load manager allocated on
// it (GET /circuits/{id}/allocation) against its limit and what its sessions draw. Read again
// when an event says it changed: an allocation (loadmanagement.*), a session starting or ending,
// a charger on a circuit connecting, disconnecting or sending meter values (what it draws).

import { api, listAll } from "../api.js";
import { h, fill, problem } from "../dom.js";
import { coalesce } from "../util.js";
import { CircuitCard } from "../widgets/circuit-card.js";

const GAP_MS = 1000;
const EVENTS = ["transaction.started", "transaction.ended", "charger.connected", "charger.disconnected", "meter.values"];

/** The tree's shape: its circuits and their parents, to know when to build it again. */
function shape(circuits) {
  return circuits.map((c) => `${c.id}<${c.parentCircuitId ?? ""}`).join(",");
}

export const page = {
  path: "/circuits",
  title: "Circuits",
  nav: "Circuits",

  async render(root, _params, { stream, session, signal }) {
    const tree = h("ul", { class: "circuit-tree" });
    const message = h("div", { role: "status" });
    const empty = h("p", { class: "empty", hidden: true, text: "No circuits yet: create them with POST /api/v1/circuits." });
    fill(
      root,
      h("h1", { text: "Circuits" }),
      h("p", { class: "hint", text: session.canWrite ? "Priorities are weights: 2 gets twice the share of 1. A session's own priority overrides its charger's." : "Priorities are weights: 2 gets twice the share of 1." }),
      message,
      empty,
      tree,
    );
    const cards = new Map();
    let drawn = null;
    let attached = new Set(); // lower-case ids of the chargers on a circuit

    const read = async () => {
      const circuits = await listAll("/circuits");
      const views = await Promise.all(circuits.map((c) => api(`/circuits/${encodeURIComponent(c.id)}/allocation`)));
      if (signal.aborted) return;
      fill(message);
      attached = new Set(circuits.flatMap((c) => c.chargePoints.map((m) => m.chargePointId.toLowerCase())));
      const ids = new Set(circuits.map((c) => c.id));
      if (shape(circuits) !== drawn) {
        // Built again only when circuits come, go or move; otherwise cards change in place.
        for (const id of [...cards.keys()]) if (!ids.has(id)) cards.delete(id);
        for (const c of circuits) if (!cards.has(c.id)) cards.set(c.id, new CircuitCard(c, { canWrite: session.canWrite, changed: refresh }));
        const roots = circuits.filter((c) => !c.parentCircuitId || !ids.has(c.parentCircuitId));
        const place = (c, list) => {
          const card = cards.get(c.id);
          list.append(card.node);
          fill(card.children);
          for (const child of circuits.filter((x) => x.parentCircuitId === c.id)) place(child, card.children);
        };
        fill(tree);
        roots.forEach((c) => place(c, tree));
        drawn = shape(circuits);
      }
      circuits.forEach((c, i) => cards.get(c.id).update(c, views[i]));
      empty.hidden = circuits.length > 0;
    };
    const refresh = coalesce(() => read().catch((error) => fill(message, problem(error))), GAP_MS, signal);
    stream.on("loadmanagement.allocated", refresh, signal);
    stream.on("loadmanagement.unmanaged", refresh, signal);
    for (const type of EVENTS) stream.on(type, (e) => attached.has(e.chargePointId?.toLowerCase()) && refresh(), signal);
    stream.on("stream.resync", refresh, signal);
    await read();
  },
};
