-- Webhooks: subscriptions, the outbox of events to deliver, and the log of every attempt.
-- Rules in csms/domain/webhooks.py; delivery in csms/services/webhooks.py.

CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,            -- wh_<hex>
    url         TEXT NOT NULL,
    events      TEXT NOT NULL,               -- JSON array: ["*"] or event types
    enabled     INTEGER NOT NULL,
    description TEXT,
    created_at  TEXT NOT NULL,
    -- Stored as given, not hashed: every delivery is signed with it.
    secret      TEXT NOT NULL
);

-- One row per event per subscription. AUTOINCREMENT: ids only grow, so id order is the order in
-- which events were enqueued, even after the newest rows were purged.
CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,           -- evt_<hex>, shared by the event's rows
    type            TEXT NOT NULL,
    charge_point_id TEXT,
    body            TEXT NOT NULL,           -- the exact JSON sent and signed
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    last_error      TEXT,
    UNIQUE (webhook_id, event_id)
);
-- The worker reads a subscription's pending rows in id order.
CREATE INDEX webhook_outbox_pending ON webhook_outbox (webhook_id, id) WHERE state = 'pending';
CREATE INDEX webhook_outbox_done ON webhook_outbox (created_at) WHERE state <> 'pending';

CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id    TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id      TEXT NOT NULL,
    type          TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    status        TEXT NOT NULL,             -- delivered | failed | retrying
    response_code INTEGER,
    error         TEXT,
    at            TEXT NOT NULL
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
