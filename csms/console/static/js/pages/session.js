// One session: what it is, its energy and duration, and a chart of its energy and power over
// its whole length from its meter values, growing live while it runs.

import { api, listAll } from "../api.js";
import { h, fill, section, facts, badge } from "../dom.js";
import { EnergyLedger } from "../energy.js";
import { energy, kwh, span, text, time } from "../format.js";
import { coalesce, every } from "../util.js";
import { MeterChart } from "../widgets/meter-chart.js";
import { chargerLink, lengthOf } from "../widgets/sessions-table.js";

const MAX_SAMPLES = 100_000;

function sessionFacts(tx, ledger) {
  const entry = ledger.entry(tx.chargePointId, tx.transactionId);
  return facts([
    ["State", tx.status === "active" ? badge("Running", "info") : badge("Ended", "neutral")],
    ["Energy", h("span", { id: "session-energy", text: kwh(EnergyLedger.energyOf(entry)) })],
    ["Duration", span(lengthOf(tx))],
    ["Charger", chargerLink(tx.chargePointId)],
    ["EVSE / connector", `${tx.evseId} / ${tx.connectorId}`],
    ["idTag", text(tx.idTag)],
    ["Started", time(tx.startedAt)],
    ["Stopped", time(tx.stoppedAt)],
    ["Meter at start", energy(tx.meterStartWh)],
    ["Meter at stop", energy(tx.meterStopWh)],
    ["Stop reason", text(tx.stopReason)],
    ["transactionId", h("code", { text: tx.transactionId })],
    ["Load-management priority", tx.priority === null ? "its charger's" : String(tx.priority)],
  ]);
}

export const page = {
  path: "/sessions/:id",
  title: (params) => `Session ${params.id}`,
  nav: null,

  async render(root, { id }, { stream, signal }) {
    const path = `/transactions/${encodeURIComponent(id)}`;
    let tx = await api(path);
    const about = h("div");
    const chartBox = h("div");
    fill(
      root,
      h("p", { class: "crumbs" }, h("a", { href: "#/sessions" }, "Sessions"), " / ", tx.id),
      h("h1", { text: `Session ${tx.id} on ${tx.chargePointId}` }),
      h("p", {}, h("a", { href: `#/sessions?chargePointId=${encodeURIComponent(tx.chargePointId)}` }, `All sessions of ${tx.chargePointId}`)),
      h("div", { class: "columns" }, section("Energy and power", chartBox), section("Session", about)),
    );
    const ledger = new EnergyLedger();
    ledger.addTransactions([tx]);
    const show = () => fill(about, sessionFacts(tx, ledger));
    const chart = new MeterChart(chartBox, {
      label: `Energy and power of session ${tx.id} from its meter values`,
      empty: "No meter values for this session yet.",
      latestId: "session-chart-latest",
      kinds: ["energy", "power"],
      energyFromWh: tx.meterStartWh,
    });
    signal.addEventListener("abort", () => chart.destroy());

    const readSamples = async () => {
      const samples = await listAll(`${path}/meter-values`, {}, { max: MAX_SAMPLES });
      if (signal.aborted) return;
      chart.add(tx.evseId, samples);
      ledger.addSamples(tx.chargePointId, tx.transactionId, samples);
      show();
    };
    const readSession = async () => {
      tx = await api(path);
      if (signal.aborted) return;
      ledger.addTransactions([tx]);
      show();
    };
    const refresh = coalesce(readSession, 1000, signal);
    const mine = (e) => e.chargePointId?.toLowerCase() === tx.chargePointId.toLowerCase() && String(e.transactionId) === tx.transactionId;
    stream.on(
      "meter.values",
      (e) => {
        if (!mine(e)) return;
        chart.add(e.evseId, e.samples);
        if (ledger.addSamples(e.chargePointId, e.transactionId, e.samples)) show();
      },
      signal,
    );
    stream.on("transaction.ended", (e) => mine(e) && refresh(), signal);
    stream.on("stream.resync", () => Promise.all([readSession(), readSamples()]).catch(() => {}), signal);
    every(30_000, () => tx.status === "active" && show(), signal); // its duration (no request)
    show();
    await readSamples();
  },
};
