// Energy per transaction, kept live: a finished session's energyWh, a running one's latest
// Energy.Active.Import.Register reading minus its start reading (the server's own rule for
// meterStartWh: the start reading, else the first reading).

import { sampleValue } from "./format.js";

const REGISTER = "Energy.Active.Import.Register";

function key(chargePointId, transactionId) {
  return `${chargePointId}\u0000${transactionId}`;
}

export class EnergyLedger {
  constructor() {
    this.entries = new Map();
  }

  /** Transactions as GET /transactions lists them. */
  addTransactions(items) {
    for (const tx of items) {
      const entry = this.entry(tx.chargePointId, tx.transactionId);
      entry.id = tx.id;
      entry.active = tx.status === "active";
      entry.startWh = tx.meterStartWh ?? entry.startWh;
      entry.energyWh = tx.energyWh;
      entry.startedAt = tx.startedAt;
      entry.evseId = tx.evseId;
      entry.connectorId = tx.connectorId;
      entry.idTag = tx.idTag;
    }
  }

  /**
   * Samples as GET /meter-values lists them or a meter.values event carries them; those of a
   * transaction the ledger does not hold are ignored. True when an energy changed.
   */
  addSamples(chargePointId, transactionId, samples) {
    const entry = this.entries.get(key(chargePointId, String(transactionId)));
    if (!entry) return false;
    let changed = false;
    for (const sample of samples) {
      if (sample.measurand !== REGISTER || (sample.phase ?? null) !== null) continue;
      const wh = sampleValue(sample);
      if (wh === null) continue;
      if (entry.registerAt && sample.timestamp < entry.registerAt) continue;
      entry.registerWh = wh;
      entry.registerAt = sample.timestamp;
      entry.startWh ??= wh;
      changed = true;
    }
    return changed;
  }

  /** A transaction.started event. */
  started(event) {
    const entry = this.entry(event.chargePointId, event.transactionId);
    Object.assign(entry, {
      id: event.id,
      active: true,
      startedAt: event.timestamp,
      evseId: event.evseId,
      connectorId: event.connectorId,
      idTag: event.idTag,
    });
    entry.startWh = event.meterStartWh ?? entry.startWh;
  }

  /** A transaction.ended event. */
  ended(event) {
    const entry = this.entry(event.chargePointId, event.transactionId);
    entry.active = false;
    entry.energyWh = event.energyWh;
  }

  entry(chargePointId, transactionId) {
    const k = key(chargePointId, String(transactionId));
    let entry = this.entries.get(k);
    if (!entry) {
      entry = { chargePointId, transactionId: String(transactionId), active: true, startWh: null, registerWh: null };
      this.entries.set(k, entry);
    }
    return entry;
  }

  /** The energy of one transaction so far (Wh), or null while nothing is known. */
  static energyOf(entry) {
    if (!entry.active) return entry.energyWh ?? (entry.registerWh !== null && entry.startWh !== null ? entry.registerWh - entry.startWh : null);
    return entry.registerWh !== null && entry.startWh !== null ? entry.registerWh - entry.startWh : null;
  }

  get total() {
    let sum = 0;
    for (const entry of this.entries.values()) sum += EnergyLedger.energyOf(entry) ?? 0;
    return sum;
  }

  get running() {
    return [...this.entries.values()].filter((entry) => entry.active);
  }
}
