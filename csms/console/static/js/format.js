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

/** Energy given in Wh, always in kWh (a column that compares sessions): "0.005 kWh", "12.350 kWh". */
export function kwh(wh) {
  if (wh === null || wh === undefined || Number.isNaN(wh)) return DASH;
  return `${number(wh / 1000, 3)} kWh`;
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

/** A length of time given in ms, for people: "45 s", "12 min 03 s", "2 h 05 min", "3 d 4 h". */
export function span(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return DASH;
  const s = Math.max(0, Math.floor(ms / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor(s / 60) % 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

/** A fraction (0..1) as a percentage: "99.5 %". */
export function percent(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || Number.isNaN(fraction)) return DASH;
  return `${number(fraction * 100, digits)} %`;
}

/** An API timestamp as the value of a datetime-local input (the browser's time zone). */
export function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A datetime-local input's value (the browser's time zone) as an API timestamp; "" → null. */
export function fromLocalInput(value) {
  if (!value) return null;
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? null : moment.toISOString();
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
