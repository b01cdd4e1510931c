// Connectivity and uptime per bucket (GET /kpis/{kpi}/series) as one chart in percent, with the
// latest bucket's values written out beside it.

import { percent, time } from "../format.js";
import { Chart, COLOURS, timeValue } from "./chart.js";

const SERIES = [
  ["Connectivity", "connectivity"],
  ["Uptime", "uptime"],
];

export class KpiChart {
  constructor(container, label) {
    this.chart = new Chart(container, { label, empty: "No measurement in this window.", latestId: "kpi-chart-latest" });
  }

  /** `series`: {connectivity: points, uptime: points}, points as the API gives them. */
  show(series) {
    const byTime = new Map();
    SERIES.forEach(([, name], i) => {
      for (const point of series[name]) {
        const t = Date.parse(point.time) / 1000;
        if (!byTime.has(t)) byTime.set(t, [null, null]);
        byTime.get(t)[i] = point.value === null ? null : point.value * 100;
      }
    });
    const times = [...byTime.keys()].sort((a, b) => a - b);
    const data = [times, ...SERIES.map((_, i) => times.map((t) => byTime.get(t)[i]))];
    this.chart.draw(data, () => this.options());
    const measured = times.filter((t) => byTime.get(t).some((v) => v !== null));
    if (measured.length === 0) {
      this.chart.describe("No measurement in this window.");
      return;
    }
    const at = measured[measured.length - 1];
    const values = SERIES.map(([word], i) => `${word}: ${percent(byTime.get(at)[i] === null ? null : byTime.get(at)[i] / 100)}`);
    this.chart.describe(`Latest bucket (${time(new Date(at * 1000).toISOString())}): ${values.join(" · ")}`);
  }

  options() {
    return {
      series: [
        { value: (_, v) => timeValue(v) },
        // A bucket alone between unmeasured ones is a point: shown, not joined across gaps.
        ...SERIES.map(([label], i) => ({ label, scale: "%", stroke: COLOURS[i], width: 2, points: { show: true, size: 5 }, value: (_, v) => (v === null ? "—" : `${v.toFixed(1)} %`) })),
      ],
      axes: [{}, { scale: "%", label: "Percent of the bucket", size: 60 }],
      scales: { x: { time: true }, "%": { range: [0, 100] } },
    };
  }

  destroy() {
    this.chart.destroy();
  }
}
