// One circuit: its limit and wiring, its lines as bars (allocated, measured, limit), the
// sessions on it with their state, share and priority, and the chargers on it with theirs.
// Operators may change the priorities (the API's set-charge-point-priority and a session's
// set-priority); rows are kept by key so a priority being typed survives live updates.

import { api } from "../api.js";
import { h, fill, badge, table } from "../dom.js";
import { current, percent, text, time } from "../format.js";
import { KeyedRows } from "./keyed-rows.js";
import { phaseBars } from "./phase-bars.js";
import { priorityForm } from "./priority-form.js";
import { chargerLink } from "./sessions-table.js";

const STATE_TONE = { charging: "good", queued: "warn", idle: "neutral", offline: "bad", unmanaged: "bad" };

function tbodyOf(caption, headers) {
  const listing = table(caption, headers, []);
  return [listing, listing.querySelector("tbody")];
}

function wiring(c) {
  return [c.phases.replace("_", " "), c.phaseRotation, c.connectedPhase, c.mode === "off" ? "load management off" : null].filter(Boolean).join(", ");
}

export class CircuitCard {
  constructor(circuit, { canWrite, changed }) {
    this.id = circuit.id;
    this.canWrite = canWrite;
    this.changed = changed;
    this.shares = new Map();
    const headingId = `circuit-${circuit.id}`;
    this.heading = h("h2", { id: headingId });
    this.about = h("p", { class: "hint" });
    this.bars = h("div");
    const [sessionTable, sessionBody] = tbodyOf(`Sessions on ${circuit.name}`, ["Session", "Charger / EVSE", "State", "Priority", "Allocated", "Share", "Measured", "Phases"]);
    const [chargerTable, chargerBody] = tbodyOf(`Chargers on ${circuit.name}`, ["Charger", "Priority", "EVSE priorities"]);
    this.sessionTable = sessionTable;
    this.chargerTable = chargerTable;
    this.noSessions = h("p", { class: "empty", text: "No session on this circuit." });
    this.noChargers = h("p", { class: "empty", text: "No charger on this circuit." });
    this.sessions = new KeyedRows(sessionBody, (s) => `${s.chargePointId}/${s.evseId}`, (s) => this.sessionRow(s));
    this.chargers = new KeyedRows(chargerBody, (m) => m.chargePointId, (m) => this.chargerRow(m));
    this.children = h("ul", { class: "circuit-children" });
    this.node = h(
      "li",
      { class: "circuit", dataset: { circuitId: circuit.id } },
      h(
        "section",
        { class: "card", "aria-labelledby": headingId },
        this.heading,
        this.about,
        this.bars,
        h("h3", { text: "Sessions" }),
        sessionTable,
        this.noSessions,
        h("h3", { text: "Chargers" }),
        chargerTable,
        this.noChargers,
      ),
      this.children,
    );
  }

  update(circuit, view) {
    this.circuit = circuit;
    fill(this.heading, circuit.name, h("span", { class: "node-type", text: ` ${wiring(circuit)}` }));
    const site = circuit.siteId ? ` · site ${circuit.siteId}` : "";
    this.about.textContent = `${circuit.id}${site} · limit ${current(circuit.maxCurrent)} per line · at least ${current(circuit.minChargePointCurrent)} a session · allocated ${time(view.updatedAt)}`;
    fill(this.bars, phaseBars(view));
    const total = view.sessions.reduce((sum, s) => sum + s.allocatedA, 0);
    for (const s of view.sessions) this.shares.set(`${s.chargePointId}/${s.evseId}`, total > 0 ? s.allocatedA / total : null);
    this.sessions.set(view.sessions);
    this.chargers.set(circuit.chargePoints);
    this.sessionTable.hidden = view.sessions.length === 0;
    this.noSessions.hidden = view.sessions.length > 0;
    this.chargerTable.hidden = circuit.chargePoints.length === 0;
    this.noChargers.hidden = circuit.chargePoints.length > 0;
  }

  sessionRow(s) {
    const cells = Array.from({ length: 8 }, (_, i) => h("td", { class: i >= 4 ? "number" : null }));
    let form = null;
    if (this.canWrite) {
      const ref = () => encodeURIComponent(s.id ?? s.transactionId);
      const setTo = (priority) => api(`/transactions/${ref()}/set-priority`, { method: "POST", body: { priority } }).then(this.changed);
      form = priorityForm({
        id: `priority-${this.id}-${s.chargePointId}-${s.evseId}`,
        label: `priority of session ${s.id ?? s.transactionId}`,
        value: s.ownPriority,
        set: setTo,
        clear: () => setTo(null),
        clearLabel: `Clear the own priority of session ${s.id ?? s.transactionId}`,
      });
    }
    const words = h("span", { class: "priority-words" });
    fill(cells[3], words, form?.node); // once: the form is never moved (it would lose the focus)
    const node = h("tr", { dataset: { session: `${s.chargePointId}/${s.evseId}` } }, cells);
    const update = (fresh) => {
      s = fresh;
      const key = `${s.chargePointId}/${s.evseId}`;
      fill(cells[0], s.id ? h("a", { href: `#/sessions/${encodeURIComponent(s.id)}` }, s.id) : h("code", { text: s.transactionId }));
      fill(cells[1], chargerLink(s.chargePointId), ` / ${s.evseId}`);
      fill(cells[2], badge(s.state, STATE_TONE[s.state] ?? "neutral"));
      const whose = s.ownPriority === null ? "its charger's" : "its own";
      words.textContent = `${s.priority} (${whose})`;
      form?.update(s.ownPriority, `${s.priority}`);
      cells[4].textContent = current(s.allocatedA);
      cells[5].textContent = percent(this.shares.get(key) ?? null, 0);
      cells[6].textContent = current(s.measuredA);
      cells[7].textContent = text(s.phases);
    };
    update(s);
    return { node, update };
  }

  chargerRow(m) {
    const cells = [h("td"), h("td"), h("td")];
    let form = null;
    if (this.canWrite) {
      const body = (priority) => ({ chargePointId: m.chargePointId, priority });
      form = priorityForm({
        id: `priority-${this.id}-${m.chargePointId}`,
        label: `priority of ${m.chargePointId} on ${this.circuit?.name ?? this.id}`,
        value: m.priority,
        set: (priority) => api(`/circuits/${encodeURIComponent(this.id)}/set-charge-point-priority`, { method: "POST", body: body(priority) }).then(this.changed),
      });
    }
    fill(cells[0], chargerLink(m.chargePointId));
    if (form) fill(cells[1], form.node);
    const node = h("tr", { dataset: { chargePointId: m.chargePointId } }, cells);
    const update = (fresh) => {
      m = fresh;
      if (form) form.update(m.priority);
      else cells[1].textContent = String(m.priority);
      cells[2].textContent = m.evsePriorities.length ? m.evsePriorities.map((e) => `EVSE ${e.evseId}: ${e.priority}`).join(", ") : "—";
    };
    update(m);
    return { node, update };
  }
}
