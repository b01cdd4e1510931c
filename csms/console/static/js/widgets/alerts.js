// Open alerts (Triggered or Acknowledged), kept live from the alert.* events.

import { h, fill, badge, table } from "../dom.js";
import { time, text } from "../format.js";

const OPEN = new Set(["Triggered", "Acknowledged"]);
const TONE = { high: "bad", medium: "warn", low: "neutral" };
const SHOWN = 20;

export class OpenAlerts {
  constructor() {
    this.byId = new Map();
  }

  load(items) {
    this.byId = new Map(items.filter((a) => OPEN.has(a.status)).map((a) => [a.id, a]));
  }

  /** An alert.triggered / alert.updated / alert.resolved event (its data is the alert). */
  apply(alert) {
    if (OPEN.has(alert.status)) this.byId.set(alert.id, alert);
    else this.byId.delete(alert.id);
  }

  get count() {
    return this.byId.size;
  }

  render(container) {
    const alerts = [...this.byId.values()].sort((a, b) => b.id - a.id);
    if (alerts.length === 0) {
      fill(container, h("p", { class: "empty", text: "No open alerts." }));
      return;
    }
    const rows = alerts.slice(0, SHOWN).map((a) =>
      h(
        "tr",
        {},
        h("td", {}, badge(a.urgency, TONE[a.urgency] ?? "neutral")),
        h("td", {}, h("a", { href: `#/alerts?chargePointId=${encodeURIComponent(a.chargePointId)}&name=${a.name}` }, a.name)),
        h(
          "td",
          {},
          h("a", { href: `#/chargers/${encodeURIComponent(a.chargePointId)}` }, a.chargePointId),
          a.evseId === null ? null : h("small", { class: "hint", text: `EVSE ${a.evseId}, connector ${text(a.connectorId)}` }),
        ),
        h("td", { text: a.status }),
        h("td", { text: time(a.triggeredAt) }),
      ),
    );
    fill(
      container,
      table("Open alerts", ["Urgency", "Alert", "Charger", "Status", "Triggered"], rows),
      alerts.length > SHOWN ? h("p", { class: "hint", text: `…and ${alerts.length - SHOWN} more.` }) : null,
    );
  }
}
