// One alert as a table body of two rows, kept in place as it changes: what it is, where, its
// status and notes; then, across the table's width (so it fits a tablet), a disclosure with
// when it was triggered, acknowledged and resolved and by whom, how often its cause was seen,
// the cause's details. Operators also get a note and the "Acknowledge" and "Resolve" buttons
// there; what they type survives live updates of the alert.

import { api } from "../api.js";
import { h, fill, badge, problem } from "../dom.js";
import { text, time } from "../format.js";

export const URGENCY_TONE = { high: "bad", medium: "warn", low: "neutral" };
export const STATUS_TONE = { Triggered: "bad", Acknowledged: "warn", Resolved: "good" };

function where(a) {
  return [
    h("a", { href: `#/chargers/${encodeURIComponent(a.chargePointId)}` }, a.chargePointId),
    a.evseId === null ? null : h("small", { class: "hint", text: `EVSE ${a.evseId}, connector ${text(a.connectorId)}` }),
  ];
}

function history(a) {
  const { count, lastSeenAt, ...cause } = a.details ?? {};
  const steps = [
    `Triggered ${time(a.triggeredAt)}`,
    count > 1 ? `Seen ${count} times, last ${time(lastSeenAt)}` : null,
    a.acknowledgedAt ? `Acknowledged ${time(a.acknowledgedAt)} by ${text(a.acknowledgedBy)}` : null,
    a.resolvedAt ? `Resolved ${time(a.resolvedAt)} ${a.resolvedBy ? `by ${a.resolvedBy}` : "(its cause went away)"}` : null,
  ];
  const causeText = Object.entries(cause).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return [
    h("ol", { class: "history" }, steps.filter(Boolean).map((step) => h("li", { text: step }))),
    causeText.length ? h("p", { class: "hint" }, `Cause (${a.category}): ${causeText.join(" · ")}`) : null,
  ];
}

/** The note and the two buttons; `done(alert)` gets the alert as the API answers the change. */
function operatorForm(a, done) {
  const noteId = `alert-${a.id}-note`;
  const note = h("textarea", { id: noteId, rows: 2, maxlength: 2000 });
  note.value = a.notes ?? "";
  const result = h("div", { role: "status", "aria-live": "polite" });
  const send = async (status, button) => {
    button.disabled = true;
    fill(result);
    try {
      done(await api(`/alerts/${a.id}`, { method: "PATCH", body: { status, notes: note.value.trim() || null } }));
    } catch (error) {
      fill(result, problem(error));
    } finally {
      button.disabled = false;
    }
  };
  const what = `${a.name} on ${a.chargePointId}`;
  const acknowledge = h("button", { type: "button", "aria-label": `Acknowledge ${what}` }, "Acknowledge");
  const resolve = h("button", { type: "button", class: "secondary", "aria-label": `Resolve ${what}` }, "Resolve");
  acknowledge.addEventListener("click", () => send("Acknowledged", acknowledge));
  resolve.addEventListener("click", () => send("Resolved", resolve));
  const node = h("div", { class: "alert-form" }, h("label", { for: noteId, text: `Note on ${what}` }), note, h("div", { class: "inline" }, acknowledge, resolve), result);
  return { node, note, closed: (alert) => (node.hidden = alert.status === "Resolved") };
}

/** {node, update(alert)}: the tbody of one alert; `canWrite` adds the operator's form. */
export function alertRow(alert, { canWrite, changed }) {
  const cells = Array.from({ length: 6 }, () => h("td"));
  const log = h("div");
  const details = h("details", { class: "alert-history" }, h("summary", { text: canWrite ? "History, acknowledge, resolve" : "History" }), log);
  const form = canWrite ? operatorForm(alert, (answer) => (form.note.value = answer.notes ?? "", changed(answer))) : null;
  if (form) details.append(form.node);
  const node = h(
    "tbody",
    { class: "alert", dataset: { alertId: alert.id } },
    h("tr", {}, cells),
    h("tr", { class: "alert-more" }, h("td", { colspan: cells.length }, details)),
  );
  const update = (a) => {
    fill(cells[0], badge(a.urgency, URGENCY_TONE[a.urgency] ?? "neutral"));
    fill(cells[1], h("strong", { text: a.name }), h("small", { class: "hint", text: `#${a.id} · ${a.category}` }));
    fill(cells[2], where(a));
    fill(cells[3], badge(a.status, STATUS_TONE[a.status] ?? "neutral"));
    cells[4].textContent = time(a.triggeredAt);
    cells[5].textContent = text(a.notes);
    cells[5].className = "notes";
    fill(log, history(a));
    form?.closed(a);
  };
  update(alert);
  return { node, update };
}

export const ALERT_HEADERS = ["Urgency", "Alert", "Charger", "Status", "Triggered", "Notes"];
