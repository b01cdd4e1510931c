// What a charger is and how it is now: identity, connection, boot info, EVSEs and connectors,
// running sessions with their energy so far.

import { h, fill, badge, table } from "../dom.js";
import { EnergyLedger } from "../energy.js";
import { energy, time, text } from "../format.js";
import { stateBadge, statusTone } from "../pages/chargers.js";

function term(label, value) {
  return h("div", {}, h("dt", { text: label }), h("dd", {}, value));
}

export function renderIdentity(container, cp, site) {
  const boot = cp.bootInfo ?? {};
  fill(
    container,
    h(
      "dl",
      { class: "facts" },
      term("State", stateBadge(cp.connected)),
      term("OCPP version", text(cp.ocppVersion)),
      term(cp.connected ? "Connected since" : "Last seen", time(cp.connected ? cp.connectedSince : cp.lastSeenAt)),
      term("Registration", text(cp.registrationStatus)),
      term("Site", site ? `${site.name} (${site.id})` : text(cp.siteId)),
      term("Vendor", text(boot.vendor)),
      term("Model", text(boot.model)),
      term("Serial number", text(boot.serialNumber)),
      term("Firmware", text(boot.firmwareVersion)),
      term("Firmware status", text(cp.firmwareStatus)),
      term("Diagnostics status", text(cp.diagnosticsStatus)),
      term("Meter", [boot.meterType, boot.meterSerialNumber].filter(Boolean).join(" ") || "—"),
      term("ICCID / IMSI", [boot.iccid, boot.imsi].filter(Boolean).join(" / ") || "—"),
      term("Security profile", text(cp.securityProfile)),
    ),
  );
}

export function renderConnectors(container, cp) {
  const rows = [];
  for (const evse of cp.evses ?? []) {
    for (const c of evse.connectors) {
      rows.push(
        h(
          "tr",
          { dataset: { evse: evse.evseId, connector: c.connectorId } },
          h("td", { text: evse.evseId === 0 ? "0 (whole charger)" : String(evse.evseId) }),
          h("td", { text: String(c.connectorId) }),
          h("td", {}, badge(c.status ?? "unknown", statusTone(c.status))),
          h("td", { text: text(c.errorCode) }),
          h("td", { text: time(c.updatedAt) }),
        ),
      );
    }
  }
  fill(
    container,
    rows.length
      ? table("EVSEs and connectors", ["EVSE", "Connector", "Status", "Error code", "Since"], rows)
      : h("p", { class: "empty", text: "No connector reported yet." }),
  );
}

/** Running sessions of this charger, with their energy so far from the ledger. */
export function renderSessions(container, ledger, chargePointId) {
  const running = ledger.running.filter((e) => e.chargePointId.toLowerCase() === chargePointId.toLowerCase());
  if (running.length === 0) {
    fill(container, h("p", { class: "empty", text: "No session running." }));
    return;
  }
  const rows = running.map((e) =>
    h(
      "tr",
      { dataset: { transactionId: e.transactionId } },
      h("td", {}, e.id ? h("a", { href: `#/sessions/${encodeURIComponent(e.id)}` }, e.transactionId) : h("code", { text: e.transactionId })),
      h("td", { text: `${text(e.evseId)} / ${text(e.connectorId)}` }),
      h("td", { text: text(e.idTag) }),
      h("td", { text: time(e.startedAt) }),
      h("td", { class: "number energy", text: energy(EnergyLedger.energyOf(e)) }),
    ),
  );
  fill(container, table("Running sessions", ["Transaction", "EVSE / connector", "idTag", "Started", "Energy"], rows));
}

/** A connector.status event applied to the charger as GET /charge-points/{id} gave it. */
export function applyStatus(cp, event) {
  cp.evses ??= [];
  let evse = cp.evses.find((x) => x.evseId === event.evseId);
  if (!evse) {
    evse = { evseId: event.evseId, connectors: [] };
    cp.evses.push(evse);
    cp.evses.sort((a, b) => a.evseId - b.evseId);
  }
  let connector = evse.connectors.find((x) => x.connectorId === event.connectorId);
  if (!connector) {
    connector = { connectorId: event.connectorId };
    evse.connectors.push(connector);
    evse.connectors.sort((a, b) => a.connectorId - b.connectorId);
  }
  if (connector.updatedAt && event.updatedAt < connector.updatedAt) return; // an older status, late
  Object.assign(connector, { status: event.status, errorCode: event.errorCode, updatedAt: event.updatedAt });
}
