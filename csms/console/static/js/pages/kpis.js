// KPIs: connectivity and uptime of the whole estate, a network, a site (picked from the site
// tree) or a charger over a window (the last 7 days unless chosen): the values, the series at a
// resolution that suits the window, and the chargers' (or connectors') own values. While the
// window ends now, connections and statuses read them again (at most every 10 s).

import { api } from "../api.js";
import { h, fill, figure, problem, section, table } from "../dom.js";
import { percent, text, time } from "../format.js";
import { coalesce } from "../util.js";
import { filterForm } from "../widgets/filters.js";
import { KpiChart } from "../widgets/kpi-chart.js";
import { chargerLink } from "../widgets/sessions-table.js";
import { scopeOptions } from "../widgets/site-tree.js";

const DAY_MS = 86_400_000;
const GAP_MS = 10_000;
const SCOPE_PARAM = { network: "networkId", site: "siteId", charger: "chargePointId" };

/** The series' resolution for a window: about 100 to 200 points, never more than 50,000. */
export function resolutionFor(ms) {
  if (ms <= 3 * 3_600_000) return "1m";
  if (ms <= DAY_MS) return "15m";
  if (ms <= 7 * DAY_MS) return "1h";
  return "1d";
}

function itemsTable(caption, items, perConnector) {
  if (items.length === 0) return h("p", { class: "empty", text: "No charger measured in this window." });
  const rows = items.map((item) =>
    h(
      "tr",
      {},
      h("td", {}, chargerLink(item.chargePointId)),
      perConnector ? h("td", { text: `${text(item.evseId)} / ${text(item.connectorId)}` }) : null,
      h("td", { class: "number", text: percent(item.value) }),
    ),
  );
  return table(caption, ["Charger", ...(perConnector ? ["EVSE / connector"] : []), "Value"], rows);
}

export const page = {
  path: "/kpis",
  title: "KPIs",
  nav: "KPIs",

  async render(root, _params, { stream, signal, query }) {
    const scope = query.get("scope") ?? "";
    const [kind, ...rest] = scope.split(":");
    const scopeQuery = SCOPE_PARAM[kind] ? { [SCOPE_PARAM[kind]]: rest.join(":") } : {};
    const byConnector = query.get("aggregateByConnector") !== "false";
    const [start, end] = [query.get("start"), query.get("end")];
    const options = [["", "All chargers"], ...scopeOptions(await api("/site-tree", { query: { excludeDetails: true } }))];
    if (kind === "charger") options.push([scope, `Charger ${rest.join(":")}`]);
    const form = filterForm({
      id: "kpi-filters",
      label: "Choose the KPIs' scope and window",
      path: "/kpis",
      query,
      submit: "Show KPIs",
      fields: [
        { name: "scope", label: "Network, site or charger", type: "select", options },
        { name: "start", label: "From (your time)", type: "datetime", initial: new Date(Date.now() - 7 * DAY_MS).toISOString() },
        { name: "end", label: "To (your time)", type: "datetime", initial: new Date().toISOString() },
        { name: "aggregateByConnector", label: "A charger's uptime", type: "select", options: [["", "the mean of its connectors'"], ["false", "any connector up"]] },
      ],
      hint: "The window defaults to the last 7 days, up to now.",
    });
    const [connectivityBox, connectivity] = figure("Connectivity", "kpi-connectivity");
    const [uptimeBox, uptime] = figure("Uptime", "kpi-uptime");
    const [windowBox, windowText] = figure("Window", "kpi-window");
    windowBox.classList.add("note");
    const chartBox = h("div");
    const connectivityItems = h("div");
    const uptimeItems = h("div");
    const message = h("div", { role: "status" });
    fill(
      root,
      h("h1", { text: "KPIs" }),
      form,
      message,
      h("dl", { class: "figures" }, connectivityBox, uptimeBox, windowBox),
      section("Connectivity and uptime over time", chartBox),
      h("div", { class: "columns even" }, section("Connectivity per charger", connectivityItems), section(byConnector ? "Uptime per connector" : "Uptime per charger", uptimeItems)),
    );
    const name = options.find(([value]) => value === scope)?.[1].replace(/^(— )+/, "") ?? "All chargers";
    const chart = new KpiChart(chartBox, `Connectivity and uptime of ${name}, in percent per bucket`);
    signal.addEventListener("abort", () => chart.destroy());

    const read = async () => {
      // From alone means from then until now (as the form shows it), not the API's 7 days.
      const base = { ...scopeQuery, start, end: end ?? (start ? new Date().toISOString() : null) };
      const uptimeQuery = { ...base, aggregateByConnector: byConnector };
      const [c, u] = await Promise.all([api("/kpis/connectivity", { query: base }), api("/kpis/uptime", { query: uptimeQuery })]);
      const resolution = resolutionFor(Date.parse(c.end) - Date.parse(c.start));
      const [cs, us] = await Promise.all([
        api("/kpis/connectivity/series", { query: { ...base, resolution } }),
        api("/kpis/uptime/series", { query: { ...uptimeQuery, resolution } }),
      ]);
      if (signal.aborted) return;
      fill(message);
      connectivity.textContent = percent(c.value);
      uptime.textContent = percent(u.value);
      windowText.textContent = `${time(c.start)} – ${time(c.end)} (buckets of ${resolution})`;
      chart.show({ connectivity: cs.points, uptime: us.points });
      fill(connectivityItems, itemsTable("Connectivity per charger", c.items, false));
      fill(uptimeItems, itemsTable(byConnector ? "Uptime per connector" : "Uptime per charger", u.items, byConnector));
    };
    if (!end) {
      const refresh = coalesce(() => read().catch((error) => fill(message, problem(error))), GAP_MS, signal, 1000);
      for (const type of ["charger.connected", "charger.disconnected", "connector.status", "stream.resync"]) stream.on(type, refresh, signal);
    }
    await read();
  },
};
