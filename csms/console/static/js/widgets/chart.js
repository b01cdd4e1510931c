// A uPlot chart that fits its box: an accessible name on the canvas's box and, beside it, the
// latest values written out in text (a canvas says nothing to a screen reader). The charts of
// the console (meter values, KPIs) are built on it.

import uPlot from "uplot";
import { h, fill } from "../dom.js";

export const COLOURS = ["#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#be123c", "#0f766e", "#a16207"];

export class Chart {
  /** `label`: the chart's accessible name; `empty`: the text shown before any point. */
  constructor(container, { label, empty, latestId = null, height = 220 }) {
    this.height = height;
    this.plot = null;
    this.box = h("div", { class: "chart", role: "img", "aria-label": label });
    this.latest = h("p", { class: "latest", id: latestId }, empty);
    fill(container, this.box, this.latest);
    this.resize = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resize.observe(this.box);
  }

  size() {
    return { width: Math.max(240, this.box.clientWidth), height: this.height };
  }

  /**
   * Shows `data` (uPlot's: [times in s, ...one array per series]). `options()` gives uPlot's
   * options (series, axes, scales) when the chart is built: the first time, or after `rebuild`
   * (the series changed).
   */
  draw(data, options, rebuild = false) {
    if (rebuild) this.clear();
    if (!this.plot) this.plot = new uPlot({ ...this.size(), ...options() }, data, this.box);
    else this.plot.setData(data);
    this.box.dataset.points = String(data[0].length);
  }

  /** The text beside the chart. */
  describe(text) {
    this.latest.textContent = text;
  }

  clear() {
    this.plot?.destroy();
    this.plot = null;
  }

  destroy() {
    this.resize.disconnect();
    this.clear();
  }
}

/** A time axis value in the browser's time zone. */
export function timeValue(seconds) {
  return seconds === null ? "—" : new Date(seconds * 1000).toLocaleString();
}
