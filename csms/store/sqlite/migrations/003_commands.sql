-- Operator commands (the audit trail) and the state that follows them.

CREATE TABLE commands (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    action          TEXT NOT NULL,
    ocpp_action     TEXT,
    requested_by    TEXT NOT NULL,
    request         TEXT NOT NULL,
    ocpp_payload    TEXT,
    state           TEXT NOT NULL,  -- pending | completed | failed
    status          TEXT,           -- the charger's status field
    response        TEXT,
    error           TEXT,           -- {code, message, details}
    created_at      TEXT NOT NULL,
    completed_at    TEXT,
    duration_ms     REAL
);
CREATE INDEX commands_charge_point ON commands (charge_point_id, id);

-- Charging profiles a charger accepted, as set (API shape); the same id replaces.
CREATE TABLE charging_profiles (
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    profile_id      INTEGER NOT NULL,
    evse_id         INTEGER NOT NULL,
    purpose         TEXT NOT NULL,
    stack_level     INTEGER NOT NULL,
    transaction_id  TEXT,
    profile         TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    PRIMARY KEY (charge_point_id, profile_id)
);

CREATE TABLE reservations (
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    reservation_id  INTEGER NOT NULL,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    status          TEXT NOT NULL,  -- active | used | cancelled | expired | removed
    created_at      TEXT NOT NULL,
    ended_at        TEXT,
    PRIMARY KEY (charge_point_id, reservation_id)
);

-- 1.6 configuration keys as last read (GetConfiguration) or written (ChangeConfiguration).
CREATE TABLE configuration_keys (
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    key             TEXT NOT NULL,
    value           TEXT,
    readonly        INTEGER,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (charge_point_id, key)
);

ALTER TABLE charge_points ADD COLUMN local_list_version INTEGER;
