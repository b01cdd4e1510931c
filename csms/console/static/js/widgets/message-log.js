// A charger's OCPP message log as a live tail: the last minutes once, then the frames logged
// since, read every 5 s while the page is visible (the log has no event of its own, and the
// contract allows no faster polling).

import { api } from "../api.js";
import { h, fill, table } from "../dom.js";
import { time, text } from "../format.js";
import { every } from "../util.js";

const KEPT = 200;
const TAIL_MS = 5000;
const FIRST_WINDOW_MS = 10 * 60_000;
const PAGES_PER_READ = 10;

function payload(message) {
  const json = typeof message.payload === "string" ? message.payload : JSON.stringify(message.payload);
  return json.length > 400 ? `${json.slice(0, 400)}…` : json;
}

function row(m) {
  const inbound = m.direction === "in";
  return h(
    "tr",
    {},
    h("td", { text: time(m.timestamp) }),
    h("td", { text: inbound ? "from charger" : "to charger" }),
    h("td", { text: m.messageType }),
    h("td", { text: text(m.action) }),
    h("td", { class: "wrap" }, h("code", { text: payload(m) })),
  );
}

export class MessageTail {
  constructor(container, chargePointId, signal) {
    this.chargePointId = chargePointId;
    this.container = container;
    this.messages = [];
    this.since = new Date(Date.now() - FIRST_WINDOW_MS).toISOString();
    this.lastId = null;
    this.reading = false;
    this.tbody = null;
    fill(container, h("p", { class: "loading", text: "Loading…" }));
    every(TAIL_MS, () => this.read().catch((error) => console.warn("message log", error)), signal);
  }

  async read() {
    if (this.reading) return;
    this.reading = true;
    try {
      const fresh = [];
      for (let n = 0; n < PAGES_PER_READ; n++) {
        const page = await api("/ocpp-messages", {
          query: { chargePointId: this.chargePointId, since: this.since, startingAfter: this.lastId, limit: 500 },
        });
        fresh.push(...page.items);
        if (page.items.length) this.lastId = page.items[page.items.length - 1].id;
        if (!page.hasMore) break;
      }
      this.messages = [...fresh.reverse(), ...this.messages].slice(0, KEPT);
      if (fresh.length || !this.tbody) this.show();
    } finally {
      this.reading = false;
    }
  }

  show() {
    if (this.messages.length === 0) {
      fill(this.container, h("p", { class: "empty", text: "No OCPP frames in the last 10 minutes." }));
      this.tbody = null;
      return;
    }
    const listing = table("OCPP messages, newest first", ["Time", "Direction", "Type", "Action", "Payload"], this.messages.map(row));
    this.tbody = listing.querySelector("tbody");
    fill(this.container, h("div", { class: "scroll-box" }, listing));
  }
}
