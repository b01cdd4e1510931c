-- Monitoring (issue 11): every connection and every connector status interval, written in the
-- same commit as the change that causes it, for the history endpoints and the KPIs. Moments are
-- milliseconds since the epoch, as in the other large tables (a third of the bytes of TEXT, and
-- the KPIs read them without parsing).

CREATE TABLE connection_history (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE REFERENCES charge_points(id) ON DELETE CASCADE,
    connected_at    INTEGER NOT NULL,
    disconnected_at INTEGER,
    reason          TEXT
);
CREATE INDEX connection_history_charger ON connection_history (charge_point_id, connected_at);
-- The open interval of a charger, found at each connect and disconnect.
CREATE INDEX connection_history_open ON connection_history (charge_point_id)
    WHERE disconnected_at IS NULL;
-- Retention: the oldest closed intervals first.
CREATE INDEX connection_history_closed ON connection_history (disconnected_at);

CREATE TABLE status_history (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE REFERENCES charge_points(id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    status          TEXT NOT NULL,
    error_code      TEXT,
    from_at         INTEGER NOT NULL,
    to_at           INTEGER
);
CREATE INDEX status_history_charger ON status_history (charge_point_id, from_at);
CREATE INDEX status_history_open ON status_history (charge_point_id, evse_id, connector_id)
    WHERE to_at IS NULL;
CREATE INDEX status_history_closed ON status_history (to_at);

-- What is current now starts the history: one open interval per known connector, and one per
-- connected charger (a server stopped without closing it is closed at the next start).
INSERT INTO status_history (charge_point_id, evse_id, connector_id, status, error_code, from_at)
    SELECT charge_point_id, evse_id, connector_id, status, error_code,
        strftime('%s', updated_at) * 1000 + CAST(substr(updated_at, 21, 3) AS INTEGER)
    FROM connectors;
INSERT INTO connection_history (charge_point_id, connected_at)
    SELECT id, strftime('%s', since) * 1000 + CAST(substr(since, 21, 3) AS INTEGER)
    FROM (SELECT id, coalesce(connected_since, last_seen_at) AS since FROM charge_points
          WHERE connected = 1)
    WHERE since IS NOT NULL;
