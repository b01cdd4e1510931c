// Alerts: filtered by status, name, urgency, charger, site and window (the API's filters, in
// the hash), newest first, live from the alert.* events; operators acknowledge and resolve them
// with a note.

import { api } from "../api.js";
import { h, fill, problem, table } from "../dom.js";
import { coalesce } from "../util.js";
import { ALERT_HEADERS, alertRow } from "../widgets/alert-row.js";
import { apiQuery, filterForm, siteOptions } from "../widgets/filters.js";
import { KeyedRows } from "../widgets/keyed-rows.js";

const PAGE_SIZE = 50;
const FILTERS = ["status", "name", "urgency", "chargePointId", "siteId", "start", "end"];
const STATUSES = ["Triggered", "Acknowledged", "Resolved"];
const NAMES = ["CHARGER_DISCONNECTED", "FAULTED", "GROUND_FAILURE", "VENDOR_ERROR_CODE", "CALL_ERROR", "PROFILE_REJECTED", "SECURITY_EVENT"];

/** Whether an alert (from an event) passes the filters an event can be checked against. */
function matcher(filters) {
  const list = (v) => (v === undefined ? null : new Set([v].flat()));
  const [statuses, names, urgencies] = [list(filters.status), list(filters.name), list(filters.urgency)];
  const cp = filters.chargePointId?.toLowerCase();
  return (a) =>
    (!statuses || statuses.has(a.status)) &&
    (!names || names.has(a.name)) &&
    (!urgencies || urgencies.has(a.urgency)) &&
    (!cp || a.chargePointId.toLowerCase() === cp) &&
    (!filters.end || Date.parse(a.triggeredAt) < Date.parse(filters.end));
}

export const page = {
  path: "/alerts",
  title: "Alerts",
  nav: "Alerts",

  async render(root, _params, { stream, session, signal, query }) {
    const filters = apiQuery(query, FILTERS);
    const sites = await siteOptions();
    const form = filterForm({
      id: "alert-filters",
      label: "Filter alerts",
      path: "/alerts",
      query,
      submit: "Show alerts",
      fields: [
        { name: "status", label: "Status", type: "checks", options: STATUSES.map((s) => [s, s]) },
        { name: "name", label: "Alert", type: "select", options: [["", "Any alert"], ...NAMES.map((n) => [n, n])] },
        { name: "urgency", label: "Urgency", type: "select", options: [["", "Any urgency"], ["high", "high"], ["medium", "medium"], ["low", "low"]] },
        { name: "chargePointId", label: "Charger", type: "text", placeholder: "any charger" },
        { name: "siteId", label: "Site", type: "select", options: [["", "All sites"], ...sites] },
        { name: "start", label: "From (your time)", type: "datetime" },
        { name: "end", label: "To (your time)", type: "datetime" },
      ],
      hint: "Without From and To: the last 24 hours. An alert still open is listed whenever it was raised.",
    });
    // One tbody per alert (its row, then its history and actions across the table).
    const listing = table("Alerts, newest first", ALERT_HEADERS, []);
    const body = listing.querySelector("table");
    listing.querySelector("tbody").remove();
    const empty = h("p", { class: "empty", text: "No alerts match these filters." });
    const more = h("button", { type: "button", hidden: true }, "Load more alerts");
    const message = h("div", { role: "status" });
    fill(root, h("h1", { text: "Alerts" }), form, h("section", { class: "card", "aria-label": "Alerts" }, listing, empty, more, message));

    const byId = new Map();
    const show = () => {
      rows.set([...byId.values()].sort((a, b) => b.id - a.id));
      listing.hidden = byId.size === 0;
      empty.hidden = byId.size > 0;
    };
    const put = (alert) => (byId.set(alert.id, alert), show());
    const rows = new KeyedRows(body, (a) => a.id, (a) => alertRow(a, { canWrite: session.canWrite, changed: put }), 2);

    let oldest = null;
    const read = async (reset) => {
      const found = await api("/alerts", { query: { ...filters, limit: PAGE_SIZE, startingAfter: reset ? undefined : oldest } });
      if (signal.aborted) return;
      if (reset) byId.clear();
      for (const a of found.items) byId.set(a.id, a);
      if (found.items.length) oldest = found.items[found.items.length - 1].id;
      more.hidden = !found.hasMore;
      show();
    };
    const fail = (error) => fill(message, problem(error));
    more.addEventListener("click", () => read(false).catch(fail));

    // Live: the event's data is the alert. One already shown is updated in place (even if it
    // no longer passes the filters: it does not vanish under the operator's eyes); a new one is
    // added when it passes them. A site filter cannot be checked from an event: read again.
    const matches = matcher(filters);
    const refresh = coalesce(() => read(true).catch(fail), 1000, signal);
    const apply = ({ type: _type, timestamp: _at, ...alert }) => {
      if (byId.has(alert.id)) put({ ...byId.get(alert.id), ...alert });
      else if (matches(alert)) filters.siteId ? refresh() : put(alert);
    };
    for (const type of ["alert.triggered", "alert.updated", "alert.resolved"]) stream.on(type, apply, signal);
    stream.on("stream.resync", refresh, signal);
    await read(true);
  },
};
