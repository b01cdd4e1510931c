// Sessions: the transactions, newest first, filtered by site, charger, running or ended and a
// time window (all in the hash, so a charger page links to its own). Live: a session that
// starts appears, one that ends shows its end, running ones' energy follows their meter values.

import { api, listAll } from "../api.js";
import { h, fill, problem } from "../dom.js";
import { isoIn, coalesce, every } from "../util.js";
import { apiQuery, filterForm, siteOptions } from "../widgets/filters.js";
import { SessionsTable } from "../widgets/sessions-table.js";

const PAGE_SIZE = 50;
const FILTERS = ["siteId", "chargePointId", "active", "start", "end"];
const REGISTER = "Energy.Active.Import.Register";

export const page = {
  path: "/sessions",
  title: "Sessions",
  nav: "Sessions",

  async render(root, _params, { stream, signal, query }) {
    const filters = apiQuery(query, FILTERS);
    const sites = await siteOptions();
    const form = filterForm({
      id: "session-filters",
      label: "Filter sessions",
      path: "/sessions",
      query,
      submit: "Show sessions",
      fields: [
        { name: "siteId", label: "Site", type: "select", options: [["", "All sites"], ...sites] },
        { name: "chargePointId", label: "Charger", type: "text", placeholder: "any charger" },
        { name: "active", label: "Running or ended", type: "select", options: [["", "Running and ended"], ["true", "Running"], ["false", "Ended"]] },
        { name: "start", label: "From (your time)", type: "datetime" },
        { name: "end", label: "To (your time)", type: "datetime" },
      ],
      hint: "A session is listed when it ran at some time between From and To.",
    });
    const listBox = h("div", {}, h("p", { class: "loading", text: "Loading…" }));
    const more = h("button", { type: "button", hidden: true }, "Load more sessions");
    const message = h("div", { role: "status" });
    fill(root, h("h1", { text: "Sessions" }), form, h("section", { class: "card", "aria-label": "Sessions" }, listBox, more, message));
    const sessions = new SessionsTable(listBox, "Sessions, newest first");

    // The running sessions' latest register (their chargers send it every few minutes at most).
    const readRegisters = async () => {
      if (sessions.running.length === 0) return;
      const scope = filters.chargePointId ? { chargePointId: filters.chargePointId } : filters.siteId ? { siteId: filters.siteId } : {};
      const samples = await listAll("/meter-values", { ...scope, measurand: REGISTER, start: isoIn(-15 * 60_000), end: isoIn(60_000) });
      if (!signal.aborted) for (const s of samples) sessions.samples(s.chargePointId, s.transactionId, [s]);
    };
    const read = async (reset) => {
      const after = reset ? undefined : sessions.last?.id;
      const found = await api("/transactions", { query: { ...filters, limit: PAGE_SIZE, startingAfter: after } });
      if (signal.aborted) return;
      sessions.put(found.items, reset);
      more.hidden = !found.hasMore;
      await readRegisters();
    };
    const readAll = () => read(true).catch((error) => fill(message, problem(error)));
    more.addEventListener("click", () => read(false).catch((error) => fill(message, problem(error))));

    // Live. A site filter cannot be checked from an event: the list is read again instead.
    const refresh = coalesce(readAll, 1000, signal);
    const own = filters.chargePointId?.toLowerCase();
    const fits = (e) => !own || e.chargePointId?.toLowerCase() === own;
    const readOne = async (id) => {
      const tx = await api(`/transactions/${encodeURIComponent(id)}`);
      if (!signal.aborted) sessions.put([tx]);
    };
    stream.on(
      "transaction.started",
      (e) => {
        const now = Date.now(); // it started now: does now fall in the window?
        if (!fits(e) || filters.active === "false" || Date.parse(filters.end) <= now || Date.parse(filters.start) > now) return;
        if (filters.siteId) refresh();
        else readOne(e.id).catch((error) => console.warn("session", error));
      },
      signal,
    );
    stream.on("transaction.ended", (e) => sessions.has(e.id) && readOne(e.id).catch((error) => console.warn("session", error)), signal);
    stream.on("meter.values", (e) => fits(e) && e.transactionId != null && sessions.samples(e.chargePointId, e.transactionId, e.samples), signal);
    stream.on("stream.resync", refresh, signal);
    every(30_000, () => sessions.show(), signal); // running sessions' durations (no request)
    await read(true);
  },
};
