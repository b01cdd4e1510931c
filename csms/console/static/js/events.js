// The live events (GET /api/v1/events, Server-Sent Events) for every page of the console.
//
// The browser's own EventSource cannot send an Authorization header, and the token must never
// be in a URL or a cookie, so the `eventsource` package (a standard EventSource on fetch) is
// given a fetch that adds the header. It reconnects by itself after a network failure; a
// refused stream (401: the token was revoked; 503: the database is away) is not retried by the
// package, so it is retried here (except 401, which signs out).

import { EventSource } from "eventsource";

const RETRY_MS = 5000;

export class EventStream {
  constructor() {
    this.handlers = new Map(); // type → Set of handlers
    this.source = null;
    this.opened = false;
    this.retry = null;
    this.onState = () => {};
    this.onUnauthorized = () => {};
  }

  start(token) {
    this.stop();
    const source = new EventSource("/api/v1/events", {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
    });
    this.source = source;
    for (const type of this.handlers.keys()) source.addEventListener(type, this.dispatch);
    source.addEventListener("open", () => {
      this.onState("live");
      // Events may have been missed while the stream was down: pages read again.
      if (this.opened) this.emit("stream.resync", {});
      this.opened = true;
    });
    source.addEventListener("error", (event) => {
      if (source !== this.source) return;
      if (event.code === 401) {
        this.stop();
        this.onUnauthorized();
        return;
      }
      this.onState("reconnecting");
      if (source.readyState === source.CLOSED) {
        this.retry = setTimeout(() => this.start(token), RETRY_MS);
      }
    });
    this.onState("connecting");
  }

  stop() {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
    this.opened = false;
    this.onState("off");
  }

  /** Calls `handler(data)` for each event of `type` until `signal` aborts. */
  on(type, handler, signal) {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
      this.source?.addEventListener(type, this.dispatch);
    }
    set.add(handler);
    signal?.addEventListener("abort", () => set.delete(handler));
  }

  dispatch = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    this.emit(message.type, data);
    // A client that read too slowly lost events: what it shows may be stale.
    if (message.type === "stream.lagged") this.emit("stream.resync", data);
  };

  emit(type, data) {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        handler(data);
      } catch (error) {
        console.warn(`handler of ${type} failed`, error);
      }
    }
  }
}

export const stream = new EventStream();
// Always listened to, so that a lag is noticed even if no page asked for it yet.
stream.on("stream.lagged", () => {});
