// Numbers with their units and times in the browser's own time zone and locale.

const DASH = "—";

function number(value, digits) {
  return value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Energy given in Wh: "840 Wh", "12.35 kWh". */
export function energy(wh) {
  if (wh === null || wh === undefined || Number.isNaN(wh)) return DASH;
  return Math.abs(wh) < 1000 ? `${number(wh, 0)} Wh` : `${number(wh / 1000, 2)} kWh`;
}

/** Power given in W: "950 W", "11.04 kW". */
export function power(w) {
  if (w === null || w === undefined || Number.isNaN(w)) return DASH;
  return Math.abs(w) < 1000 ? `${number(w, 0)} W` : `${number(w / 1000, 2)} kW`;
}

/** Current given in A: "16.0 A". */
export function current(a) {
  if (a === null || a === undefined || Number.isNaN(a)) return DASH;
  return `${number(a, 1)} A`;
}

/** A duration given in ms: "420 ms", "3.2 s". */
export function duration(ms) {
  if (ms === null || ms === undefined) return DASH;
  return ms < 1000 ? `${number(ms, 0)} ms` : `${number(ms / 1000, 1)} s`;
}

/** An API timestamp (ISO 8601 UTC) in the browser's time zone. */
export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : DASH;
}

export function text(value) {
  return value === null || value === undefined || value === "" ? DASH : String(value);
}

/** A meter sample's value in the base unit (Wh, W, A), or null when it is not a number. */
export function sampleValue(sample) {
  const value = typeof sample.value === "number" ? sample.value : Number.parseFloat(sample.value);
  if (!Number.isFinite(value)) return null;
  return sample.unit === "kWh" || sample.unit === "kW" ? value * 1000 : value;
}
