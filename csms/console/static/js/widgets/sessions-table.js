// Sessions (transactions) as a table, one row per transaction kept by its id: energy in kWh (a
// running one's from its latest register reading, live), duration, times in the browser's zone.

import { h, fill, badge, table } from "../dom.js";
import { EnergyLedger } from "../energy.js";
import { kwh, span, text, time } from "../format.js";
import { KeyedRows } from "./keyed-rows.js";

const HEADERS = ["Session", "Charger", "EVSE / connector", "idTag", "Started", "Stopped", "Duration", "Energy", "Stop reason"];

/** The session's length so far (running) or in all (ended), in ms. */
export function lengthOf(tx, now = Date.now()) {
  const end = tx.stoppedAt ? Date.parse(tx.stoppedAt) : now;
  return end - Date.parse(tx.startedAt);
}

export function sessionLink(tx) {
  return h("a", { href: `#/sessions/${encodeURIComponent(tx.id)}` }, tx.id);
}

export function chargerLink(id) {
  return h("a", { href: `#/chargers/${encodeURIComponent(id)}` }, id);
}

function number(tx) {
  return Number(tx.id.replace(/^tx_/, "")) || 0;
}

export class SessionsTable {
  constructor(container, caption) {
    this.byId = new Map();
    this.ledger = new EnergyLedger();
    this.body = h("tbody");
    this.listing = table(caption, HEADERS, []);
    this.listing.querySelector("tbody").replaceWith(this.body);
    this.rows = new KeyedRows(this.body, (tx) => tx.id, (tx) => this.row(tx));
    this.empty = h("p", { class: "empty", text: "No sessions match these filters." });
    fill(container, this.listing, this.empty);
  }

  row(tx) {
    const cells = HEADERS.map(() => h("td"));
    cells[6].className = "number";
    cells[7].className = "number energy";
    const node = h("tr", { dataset: { id: tx.id } }, cells);
    const update = (t) => {
      const entry = this.ledger.entry(t.chargePointId, t.transactionId);
      fill(cells[0], sessionLink(t), t.transactionId !== t.id.replace(/^tx_/, "") ? h("small", { class: "hint", text: `transactionId ${t.transactionId}` }) : null);
      fill(cells[1], chargerLink(t.chargePointId));
      cells[2].textContent = `${t.evseId} / ${t.connectorId}`;
      cells[3].textContent = text(t.idTag);
      cells[4].textContent = time(t.startedAt);
      fill(cells[5], t.status === "active" ? badge("Running", "info") : time(t.stoppedAt));
      cells[6].textContent = span(lengthOf(t));
      cells[7].textContent = kwh(EnergyLedger.energyOf(entry));
      cells[8].textContent = text(t.stopReason);
    };
    update(tx);
    return { node, update };
  }

  /** Transactions as the API gives them; `reset` drops the ones shown. */
  put(items, reset = false) {
    if (reset) {
      this.byId.clear();
      this.ledger = new EnergyLedger();
    }
    this.ledger.addTransactions(items);
    for (const tx of items) this.byId.set(tx.id, tx);
    this.show();
  }

  /** Samples (of any charger); true when a session shown changed. */
  samples(chargePointId, transactionId, samples) {
    if (!this.ledger.addSamples(chargePointId, transactionId, samples)) return false;
    this.show();
    return true;
  }

  has(id) {
    return this.byId.has(id);
  }

  get running() {
    return [...this.byId.values()].filter((tx) => tx.status === "active");
  }

  get last() {
    const sorted = this.sorted();
    return sorted[sorted.length - 1] ?? null;
  }

  sorted() {
    return [...this.byId.values()].sort((a, b) => number(b) - number(a));
  }

  show() {
    const items = this.sorted();
    this.rows.set(items);
    this.listing.hidden = items.length === 0;
    this.empty.hidden = items.length > 0;
  }
}
