// One charger: what it is, its live state and sessions, a live power chart, a form for every
// action (operators only), its command history, configuration and OCPP message log.

import { api, listAll } from "../api.js";
import { h, fill, section } from "../dom.js";
import { EnergyLedger } from "../energy.js";
import { coalesce, isoIn } from "../util.js";
import { renderActions } from "../widgets/actions.js";
import { applyStatus, renderConnectors, renderIdentity, renderSessions } from "../widgets/charger-summary.js";
import { renderCommands } from "../widgets/commands.js";
import { renderConfiguration } from "../widgets/configuration.js";
import { MessageTail } from "../widgets/message-log.js";
import { MeterChart } from "../widgets/meter-chart.js";

const GAP_MS = 1000;
const CHART_WINDOW_MS = 15 * 60_000;

function box() {
  return h("div", {}, h("p", { class: "loading", text: "Loading…" }));
}

export const page = {
  path: "/chargers/:id",
  title: (params) => `Charger ${params.id}`,
  nav: null,

  async render(root, { id }, { stream, session, signal }) {
    const path = `/charge-points/${encodeURIComponent(id)}`;
    const [identity, connectors, sessions, chartBox, actions, commands, configuration, messages] = Array.from({ length: 8 }, box);
    const heading = h("h1", {}, `Charger ${id}`);
    fill(
      root,
      h("p", { class: "crumbs" }, h("a", { href: "#/chargers" }, "Chargers"), " / ", id),
      heading,
      h(
        "p",
        { class: "links" },
        h("a", { href: `#/sessions?chargePointId=${encodeURIComponent(id)}` }, "Its sessions"),
        h("a", { href: `#/alerts?chargePointId=${encodeURIComponent(id)}` }, "Its alerts"),
        h("a", { href: `#/kpis?scope=charger:${encodeURIComponent(id)}` }, "Its connectivity and uptime"),
      ),
      h(
        "div",
        { class: "columns" },
        h("div", { class: "stack" }, section("Charger", identity), section("EVSEs and connectors", connectors), section("Running sessions", sessions), section("Power and current", chartBox)),
        session.canWrite
          ? section("Actions", actions)
          : section("Actions", h("p", { class: "hint", text: "Signed in with a viewer token: actions are not available." })),
      ),
      section("Command history", commands),
      section("Configuration", configuration),
      section("OCPP messages", messages),
    );
    const own = id.toLowerCase(); // identities match ignoring case, as the API matches them
    const mine = (handler) => (event) => event.chargePointId?.toLowerCase() === own && handler(event);

    // --- the charger itself
    let cp = null;
    const readCharger = async () => {
      cp = await api(path);
      if (signal.aborted) return;
      if (cp.name) heading.textContent = `Charger ${id} · ${cp.name}`;
      const site = cp.siteId ? await api(`/sites/${encodeURIComponent(cp.siteId)}`).catch(() => null) : null;
      renderIdentity(identity, cp, site);
      renderConnectors(connectors, cp);
    };
    const refreshCharger = coalesce(readCharger, GAP_MS, signal);
    for (const type of ["charger.connected", "charger.disconnected", "firmware.status"]) stream.on(type, mine(refreshCharger), signal);
    stream.on("connector.status", mine((e) => cp && (applyStatus(cp, e), renderConnectors(connectors, cp))), signal);

    // --- sessions, their energy, the chart
    const chart = new MeterChart(chartBox, {
      label: `Power and current of ${id} from its meter values, last 15 minutes`,
      empty: "No meter values in the last 15 minutes.",
      windowS: CHART_WINDOW_MS / 1000,
    });
    signal.addEventListener("abort", () => chart.destroy());
    let ledger = new EnergyLedger();
    const readSessions = async () => {
      const fresh = new EnergyLedger();
      fresh.addTransactions((await api("/transactions", { query: { chargePointId: id, active: true, limit: 100 } })).items);
      for (const sample of await listAll("/meter-values", { chargePointId: id, start: isoIn(-CHART_WINDOW_MS), end: isoIn(60_000) }, { max: 20_000 })) {
        fresh.addSamples(sample.chargePointId, sample.transactionId, [sample]);
        chart.add(sample.evseId, [sample]);
      }
      if (signal.aborted) return;
      ledger = fresh;
      renderSessions(sessions, ledger, id);
    };
    const refreshSessions = coalesce(readSessions, GAP_MS, signal);
    stream.on("transaction.started", mine((e) => (ledger.started(e), renderSessions(sessions, ledger, id), refreshSessions())), signal);
    stream.on("transaction.ended", mine((e) => (ledger.ended(e), renderSessions(sessions, ledger, id))), signal);
    stream.on(
      "meter.values",
      mine((e) => {
        chart.add(e.evseId, e.samples);
        if (ledger.addSamples(e.chargePointId, e.transactionId, e.samples)) renderSessions(sessions, ledger, id);
      }),
      signal,
    );

    // --- what was sent to it, and what it says
    const refreshCommands = coalesce(() => renderCommands(commands, id), GAP_MS, signal);
    const refreshConfiguration = coalesce(() => renderConfiguration(configuration, id), GAP_MS, signal);
    stream.on(
      "command.completed",
      mine((e) => {
        refreshCommands();
        if (/configuration|variables|report/i.test(`${e.action} ${e.ocppAction}`)) refreshConfiguration();
      }),
      signal,
    );
    stream.on("report.completed", mine(refreshConfiguration), signal);
    const tail = new MessageTail(messages, id, signal);

    // What an empty field of an action form starts from when the form is opened: the running
    // session (stop).
    const hints = () => ({ transactionId: ledger.running.find((e) => e.chargePointId.toLowerCase() === own)?.transactionId });

    const readAll = () =>
      Promise.all([
        readCharger(),
        readSessions(),
        renderCommands(commands, id),
        renderConfiguration(configuration, id),
        tail.read(),
      ]);
    stream.on("stream.resync", () => readAll().catch(() => {}), signal);
    await Promise.all([readAll(), session.canWrite ? renderActions(actions, id, hints) : null]);
  },
};
