// Small helpers shared by pages.

/**
 * Runs `task` at most once per `gap` ms however often it is asked for: `settle` ms after the
 * first request (so a burst of events, such as a charger's boot and its statuses, is one run),
 * then once more at the end of the gap if asked again meanwhile (the last request is never lost),
 * never while a run is still going. Used to re-read what events say has changed.
 */
export function coalesce(task, gap, signal, settle = 200) {
  let last = 0;
  let timer = null;
  let running = null;
  let again = false;
  const run = async () => {
    timer = null;
    if (signal?.aborted) return;
    if (running) {
      again = true;
      return;
    }
    last = Date.now();
    running = Promise.resolve().then(task).catch((error) => console.warn("refresh failed", error));
    await running;
    running = null;
    if (again) {
      again = false;
      request();
    }
  };
  const request = () => {
    if (timer !== null || signal?.aborted) return;
    const wait = Math.max(settle, last + gap - Date.now());
    timer = setTimeout(run, wait);
  };
  signal?.addEventListener("abort", () => clearTimeout(timer));
  return request;
}

/** Calls `task` every `period` ms while the page is visible, until `signal` aborts. */
export function every(period, task, signal) {
  const timer = setInterval(() => {
    if (!document.hidden) task();
  }, period);
  signal.addEventListener("abort", () => clearInterval(timer));
}

/** The ISO time `ms` from now. */
export function isoIn(ms) {
  return new Date(Date.now() + ms).toISOString();
}
