// Overview: the estate at a glance, live. The site tree and the connected count are read again
// when an event says they changed (0.2 s later, then at most once a second however many events
// come); alerts and energy are kept from the events themselves. Nothing is polled.

import { api, listAll } from "../api.js";
import { h, fill, figure, section } from "../dom.js";
import { EnergyLedger } from "../energy.js";
import { energy } from "../format.js";
import { coalesce } from "../util.js";
import { OpenAlerts } from "../widgets/alerts.js";
import { renderSiteTree, totals } from "../widgets/site-tree.js";

const TREE_EVENTS = ["charger.connected", "charger.disconnected", "charger.deleted", "connector.status"];
const REFRESH_GAP_MS = 1000;
const OPEN_ALERTS = "#/alerts?status=Triggered&status=Acknowledged";

function localMidnight() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  return midnight;
}

export const page = {
  path: "/overview",
  title: "Overview",
  nav: "Overview",

  async render(root, _params, { stream, signal }) {
    const [connectedBox, connected] = figure("Chargers connected", "figure-connected");
    const [socketsBox, sockets] = figure("Sockets online / offline / error", "figure-sockets");
    const [alertsBox, alertCount] = figure(h("a", { href: OPEN_ALERTS }, "Open alerts"), "figure-alerts");
    const [runningBox, running] = figure(h("a", { href: "#/sessions?active=true" }, "Sessions running"), "figure-running");
    const [energyBox, energyToday] = figure("Energy today", "figure-energy");
    energyBox.title = "Sessions that ran today (since local midnight): finished ones whole, running ones so far";
    const treeBox = h("div", { class: "tree-box" }, h("p", { class: "loading", text: "Loading…" }));
    const alertsList = h("div", {}, h("p", { class: "loading", text: "Loading…" }));
    fill(
      root,
      h("h1", { text: "Overview" }),
      h("dl", { class: "figures" }, connectedBox, socketsBox, alertsBox, runningBox, energyBox),
      h("div", { class: "columns even" }, section("Sites", treeBox), section("Open alerts", alertsList, h("p", {}, h("a", { href: OPEN_ALERTS }, "Acknowledge and resolve them on the Alerts page")))),
    );

    // --- the tree and the connected count: read again when events say they changed
    const readTree = async () => {
      const [roots, health] = await Promise.all([api("/site-tree"), api("/health")]);
      if (signal.aborted) return;
      renderSiteTree(treeBox, roots);
      const sum = totals(roots);
      connected.textContent = `${health.chargersConnected} of ${sum.chargers.size}`;
      sockets.textContent = `${sum.onlineSocket} / ${sum.offlineSocket} / ${sum.errorSocket}`;
    };
    const refreshTree = coalesce(readTree, REFRESH_GAP_MS, signal);
    for (const type of TREE_EVENTS) stream.on(type, refreshTree, signal);

    // --- alerts: kept from their events
    const alerts = new OpenAlerts();
    const showAlerts = () => {
      alertCount.textContent = String(alerts.count);
      alerts.render(alertsList);
    };
    const readAlerts = async () => {
      alerts.load(await listAll("/alerts", { status: ["Triggered", "Acknowledged"] }));
      if (!signal.aborted) showAlerts();
    };
    for (const type of ["alert.triggered", "alert.updated", "alert.resolved"]) {
      stream.on(type, (alert) => (alerts.apply(alert), showAlerts()), signal);
    }

    // --- energy of today's sessions: the list once, then the events
    let ledger = new EnergyLedger();
    let midnight = null;
    signal.addEventListener("abort", () => clearTimeout(midnight));
    const showEnergy = () => {
      energyToday.textContent = energy(ledger.total);
      running.textContent = String(ledger.running.length);
    };
    const readEnergy = async () => {
      const fresh = new EnergyLedger();
      const now = Date.now();
      fresh.addTransactions(await listAll("/transactions", { start: localMidnight().toISOString() }));
      if (fresh.running.length) {
        // The running sessions' latest register: their chargers report it every few minutes at most.
        const samples = await listAll("/meter-values", {
          measurand: "Energy.Active.Import.Register",
          start: new Date(now - 15 * 60_000).toISOString(),
          end: new Date(now + 60_000).toISOString(),
        });
        for (const sample of samples) fresh.addSamples(sample.chargePointId, sample.transactionId, [sample]);
      }
      if (signal.aborted) return;
      ledger = fresh;
      showEnergy();
      // A new day starts from nothing.
      clearTimeout(midnight);
      midnight = setTimeout(readEnergy, localMidnight().getTime() + 86_400_000 - Date.now() + 1000);
    };
    stream.on("transaction.started", (e) => (ledger.started(e), showEnergy()), signal);
    stream.on("transaction.ended", (e) => (ledger.ended(e), showEnergy()), signal);
    stream.on("meter.values", (e) => ledger.addSamples(e.chargePointId, e.transactionId, e.samples) && showEnergy(), signal);

    const readAll = () => Promise.all([readTree(), readAlerts(), readEnergy()]);
    stream.on("stream.resync", () => readAll().catch(() => {}), signal);
    await readAll();
  },
};
