-- Alerts (monitoring): what an operator must look at. Rules in csms/domain/alerts.py.
-- AUTOINCREMENT: an id is never given twice, even after the newest alerts were deleted with
-- their charger, so an id an operator noted down never names another alert.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL,
    category        TEXT NOT NULL,
    urgency         TEXT NOT NULL,  -- low | medium | high
    status          TEXT NOT NULL,  -- Triggered | Acknowledged | Resolved
    charge_point_id TEXT NOT NULL COLLATE NOCASE
        REFERENCES charge_points (id) ON DELETE CASCADE,
    evse_id         INTEGER,        -- NULL: the alert is about the charger as a whole
    connector_id    INTEGER,
    triggered_at    TEXT NOT NULL,
    details         TEXT NOT NULL,  -- JSON object
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    resolved_at     TEXT,
    resolved_by     TEXT,           -- the operator's token name; NULL when its cause went away
    notes           TEXT
);
-- At most one open alert per name and target. NULLs never collide in a unique index, so a
-- charger-level alert's missing EVSE and connector count as -1.
CREATE UNIQUE INDEX alerts_open_target
    ON alerts (name, charge_point_id, COALESCE(evse_id, -1), COALESCE(connector_id, -1))
    WHERE status <> 'Resolved';
CREATE INDEX alerts_triggered ON alerts (triggered_at);
CREATE INDEX alerts_charge_point ON alerts (charge_point_id, triggered_at);
CREATE INDEX alerts_name ON alerts (name, charge_point_id, triggered_at);
