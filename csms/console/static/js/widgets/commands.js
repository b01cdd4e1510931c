// A charger's command history (GET /commands?chargePointId=), newest first.

import { api } from "../api.js";
import { h, fill, badge, table } from "../dom.js";
import { time, duration, text } from "../format.js";

const SHOWN = 20;
const TONE = { completed: "good", failed: "bad", pending: "info" };

function outcome(command) {
  if (command.error) return `${command.error.code}: ${command.error.message}`;
  return text(command.status);
}

export async function renderCommands(container, chargePointId) {
  const page = await api("/commands", { query: { chargePointId, limit: SHOWN } });
  if (page.items.length === 0) {
    fill(container, h("p", { class: "empty", text: "No commands sent to this charger yet." }));
    return;
  }
  const rows = page.items.map((c) =>
    h(
      "tr",
      {},
      h("td", { text: time(c.createdAt) }),
      h("td", {}, h("code", { text: c.action })),
      h("td", { text: text(c.ocppAction) }),
      h("td", {}, badge(c.state, TONE[c.state] ?? "neutral")),
      h("td", { text: outcome(c) }),
      h("td", { text: c.requestedBy }),
      h("td", { class: "number", text: duration(c.durationMs) }),
    ),
  );
  fill(container, table("Command history", ["Sent", "Action", "OCPP call", "State", "Answer", "By", "Took"], rows));
}
