-- Monitoring (issue 11): every connection and every connector status interval, written in the
-- same commit as the change that causes it, for the history endpoints and the KPIs.

CREATE TABLE connection_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_point_id citext NOT NULL REFERENCES charge_points (id) ON DELETE CASCADE,
    connected_at    timestamptz NOT NULL,
    disconnected_at timestamptz,
    reason          text
);
CREATE INDEX connection_history_charger ON connection_history (charge_point_id, connected_at);
-- The open interval of a charger, found at each connect and disconnect.
CREATE INDEX connection_history_open ON connection_history (charge_point_id)
    WHERE disconnected_at IS NULL;
-- Retention: the oldest closed intervals first.
CREATE INDEX connection_history_closed ON connection_history (disconnected_at);

CREATE TABLE status_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    charge_point_id citext NOT NULL REFERENCES charge_points (id) ON DELETE CASCADE,
    evse_id         integer NOT NULL,
    connector_id    integer NOT NULL,
    status          text NOT NULL,
    error_code      text,
    from_at         timestamptz NOT NULL,
    to_at           timestamptz
);
CREATE INDEX status_history_charger ON status_history (charge_point_id, from_at);
CREATE INDEX status_history_open ON status_history (charge_point_id, evse_id, connector_id)
    WHERE to_at IS NULL;
CREATE INDEX status_history_closed ON status_history (to_at);

-- What is current now starts the history: one open interval per known connector, and one per
-- connected charger (a server stopped without closing it is closed at the next start).
INSERT INTO status_history (charge_point_id, evse_id, connector_id, status, error_code, from_at)
    SELECT charge_point_id, evse_id, connector_id, status, error_code, updated_at FROM connectors;
INSERT INTO connection_history (charge_point_id, connected_at)
    SELECT id, coalesce(connected_since, last_seen_at) FROM charge_points
    WHERE connected AND coalesce(connected_since, last_seen_at) IS NOT NULL;
