// A live chart of meter values: a charger's power (W) and current per phase (A) over the last
// minutes, or a session's energy (Wh since its start) and power over its whole length. Samples
// come from GET /meter-values (or a transaction's) and then from meter.values events.

import { energy, power, current, time, sampleValue } from "../format.js";
import { Chart, COLOURS, timeValue } from "./chart.js";

const REGISTER = "Energy.Active.Import.Register";

// What can be drawn: each kind is one scale (its unit), one series per EVSE (and phase).
const KINDS = {
  power: { unit: "W", word: "Power", format: power, match: (s) => s.measurand === "Power.Active.Import" && !s.phase },
  current: { unit: "A", word: "Current", format: current, match: (s) => s.measurand === "Current.Import", phased: true },
  energy: { unit: "Wh", word: "Energy", format: energy, match: (s) => s.measurand === REGISTER && !s.phase },
};
const KIND_OF_UNIT = Object.fromEntries(Object.entries(KINDS).map(([name, kind]) => [kind.unit, name]));
const AXES = {
  W: { label: "Power (W)", size: 70, values: (_, ticks) => ticks.map((v) => v.toLocaleString()) },
  A: { label: "Current (A)" },
  Wh: { label: "Energy (Wh)", size: 70, values: (_, ticks) => ticks.map((v) => v.toLocaleString()) },
};
// Every scale from 0: a power, a current or an energy is read against nothing.
const FLOOR = { W: 1000, A: 32, Wh: 100 };

function parts(key) {
  const [evse, unit, phase] = key.split("|");
  return { evse, unit, phase, kind: KINDS[KIND_OF_UNIT[unit]] };
}

function seriesLabel(key, evseCount) {
  const { evse, phase, kind } = parts(key);
  const what = `${kind.word}${phase ? ` ${phase}` : ""}`;
  return evseCount > 1 ? `EVSE ${evse} ${what}` : what;
}

export class MeterChart {
  /**
   * `kinds`: what to draw ("power", "current", "energy"); `windowS`: how far back to keep (null:
   * everything); `energyFromWh`: the register reading energy counts from (default: the first).
   */
  constructor(container, { label, empty, latestId = "chart-latest", kinds = ["power", "current"], windowS = null, energyFromWh = null }) {
    this.kinds = kinds.map((name) => KINDS[name]);
    this.windowS = windowS;
    this.energyFrom = new Map(); // EVSE → register reading energy counts from
    this.energyFromWh = energyFromWh;
    this.points = new Map(); // time (s) → Map(series key → value)
    this.keys = [];
    this.frame = 0;
    this.rebuild = false;
    this.chart = new Chart(container, { label, empty, latestId });
  }

  get box() {
    return this.chart.box;
  }

  key(evseId, sample) {
    const kind = this.kinds.find((k) => k.match(sample));
    return kind ? `${evseId}|${kind.unit}|${kind.phased ? (sample.phase ?? "") : ""}` : null;
  }

  value(evseId, kind, sample) {
    const value = sampleValue(sample);
    if (value === null || kind.unit !== "Wh") return value;
    if (!this.energyFrom.has(evseId)) this.energyFrom.set(evseId, this.energyFromWh ?? value);
    return value - this.energyFrom.get(evseId);
  }

  /** Samples of one EVSE, as GET /meter-values or a meter.values event gives them. */
  add(evseId, samples) {
    let fresh = false;
    for (const sample of samples) {
      const key = this.key(evseId, sample);
      const value = key && this.value(evseId, parts(key).kind, sample);
      if (key === null || value === null) continue;
      const t = Math.round(Date.parse(sample.timestamp) / 100) / 10;
      if (!this.points.has(t)) this.points.set(t, new Map());
      this.points.get(t).set(key, value);
      if (!this.keys.includes(key)) {
        this.keys.push(key);
        this.keys.sort();
        this.rebuild = true;
      }
      fresh = true;
    }
    if (fresh && !this.frame) this.frame = requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frame = 0;
    if (this.windowS !== null) {
      const newest = Math.max(...this.points.keys());
      for (const t of this.points.keys()) if (t < newest - this.windowS) this.points.delete(t);
    }
    const times = [...this.points.keys()].sort((a, b) => a - b);
    const data = [times, ...this.keys.map((key) => times.map((t) => this.points.get(t).get(key) ?? null))];
    this.chart.draw(data, () => this.options(), this.rebuild);
    this.rebuild = false;
    this.describeLatest(times);
  }

  options() {
    const evses = new Set(this.keys.map((k) => parts(k).evse)).size;
    const series = this.keys.map((key, i) => ({
      label: seriesLabel(key, evses),
      scale: parts(key).unit,
      stroke: COLOURS[i % COLOURS.length],
      width: 2,
      spanGaps: true,
      value: (_, v) => (v === null ? "—" : parts(key).kind.format(v)),
    }));
    // The first unit's axis on the left, the second's on the right; a third has none.
    const units = [...new Set(this.kinds.map((k) => k.unit))].filter((u) => this.keys.some((k) => parts(k).unit === u));
    const axes = [{}, ...units.slice(0, 2).map((unit, i) => ({ scale: unit, ...AXES[unit], side: i === 0 ? 3 : 1, grid: { show: i === 0 } }))];
    const scales = { x: { time: true } };
    for (const unit of units) scales[unit] = { range: (_, __, max) => [0, Math.max(FLOOR[unit], max * 1.25)] };
    return { series: [{ value: (_, v) => timeValue(v) }, ...series], axes, scales };
  }

  describeLatest(times) {
    const at = times[times.length - 1];
    const last = new Map(); // each series' latest value
    for (let i = times.length - 1; i >= 0 && last.size < this.keys.length; i--) {
      for (const [key, value] of this.points.get(times[i])) if (!last.has(key)) last.set(key, value);
    }
    const evses = new Set(this.keys.map((k) => parts(k).evse)).size;
    const values = this.keys.filter((k) => last.has(k)).map((k) => `${seriesLabel(k, evses)}: ${parts(k).kind.format(last.get(k))}`);
    this.chart.describe(`Latest (${time(new Date(at * 1000).toISOString())}): ${values.join(" · ")}`);
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.chart.destroy();
  }
}
