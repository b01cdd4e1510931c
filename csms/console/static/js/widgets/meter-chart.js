// A live chart of a charger's power (W) and current per phase (A) from its meter values: the
// last minutes read once, then every meter.values event as it arrives.

import uPlot from "uplot";
import { h, fill } from "../dom.js";
import { power, current, time, sampleValue } from "../format.js";

const WINDOW_S = 15 * 60;
const COLOURS = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#be123c", "#0f766e", "#a16207"];

function seriesKey(evseId, sample) {
  if (sample.measurand === "Power.Active.Import" && !sample.phase) return `${evseId}|W|`;
  if (sample.measurand === "Current.Import") return `${evseId}|A|${sample.phase ?? ""}`;
  return null;
}

function seriesLabel(key, evseCount) {
  const [evse, unit, phase] = key.split("|");
  const what = unit === "W" ? "Power" : `Current${phase ? ` ${phase}` : ""}`;
  return evseCount > 1 ? `EVSE ${evse} ${what}` : what;
}

export class MeterChart {
  constructor(container, chargePointId) {
    this.chargePointId = chargePointId;
    this.points = new Map(); // time (s) → Map(series key → value)
    this.keys = [];
    this.plot = null;
    this.frame = 0;
    this.box = h("div", { class: "chart", role: "img", "aria-label": `Power and current of ${chargePointId} from its meter values, last 15 minutes` });
    this.latest = h("p", { class: "latest", id: "chart-latest" }, "No meter values in the last 15 minutes.");
    fill(container, this.box, this.latest);
    this.resize = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resize.observe(this.box);
  }

  size() {
    return { width: Math.max(240, this.box.clientWidth), height: 220 };
  }

  /** Samples of one EVSE, as GET /meter-values or a meter.values event gives them. */
  add(evseId, samples) {
    let fresh = false;
    for (const sample of samples) {
      const key = seriesKey(evseId, sample);
      const value = key && sampleValue(sample);
      if (key === null || value === null) continue;
      const t = Math.round(Date.parse(sample.timestamp) / 100) / 10;
      if (!this.points.has(t)) this.points.set(t, new Map());
      this.points.get(t).set(key, value);
      if (!this.keys.includes(key)) {
        this.keys.push(key);
        this.keys.sort();
        this.plot?.destroy();
        this.plot = null;
      }
      fresh = true;
    }
    if (fresh && !this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    const newest = Math.max(...this.points.keys());
    for (const t of this.points.keys()) if (t < newest - WINDOW_S) this.points.delete(t);
    const times = [...this.points.keys()].sort((a, b) => a - b);
    const data = [times, ...this.keys.map((key) => times.map((t) => this.points.get(t).get(key) ?? null))];
    if (!this.plot) this.plot = this.create(data);
    else this.plot.setData(data);
    this.box.dataset.points = String(times.length);
    this.describeLatest(times);
  }

  create(data) {
    const evses = new Set(this.keys.map((k) => k.split("|")[0])).size;
    const series = this.keys.map((key, i) => ({
      label: seriesLabel(key, evses),
      scale: key.split("|")[1],
      stroke: COLOURS[i % COLOURS.length],
      width: 2,
      spanGaps: true,
      value: (_, v) => (v === null ? "—" : key.includes("|W|") ? power(v) : current(v)),
    }));
    const units = new Set(this.keys.map((k) => k.split("|")[1]));
    const axes = [{}];
    if (units.has("W")) axes.push({ scale: "W", label: "Power (W)", size: 70, values: (_, ticks) => ticks.map((v) => v.toLocaleString()) });
    if (units.has("A")) axes.push({ scale: "A", label: "Current (A)", side: units.has("W") ? 1 : 3, grid: { show: !units.has("W") } });
    // Both from 0: a power or a current is read against nothing.
    const scales = { x: { time: true }, W: { range: (_, __, max) => [0, Math.max(1000, max * 1.25)] }, A: { range: (_, __, max) => [0, Math.max(32, max * 1.25)] } };
    const x = { value: (_, v) => (v === null ? "—" : time(new Date(v * 1000).toISOString())) };
    return new uPlot({ ...this.size(), series: [x, ...series], axes, scales }, data, this.box);
  }

  describeLatest(times) {
    const last = this.points.get(times[times.length - 1]);
    const evses = new Set(this.keys.map((k) => k.split("|")[0])).size;
    const parts = this.keys.filter((k) => last.has(k)).map((k) => `${seriesLabel(k, evses)}: ${k.includes("|W|") ? power(last.get(k)) : current(last.get(k))}`);
    this.latest.textContent = `Latest (${time(new Date(times[times.length - 1] * 1000).toISOString())}): ${parts.join(" · ")}`;
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.resize.disconnect();
    this.plot?.destroy();
  }
}
