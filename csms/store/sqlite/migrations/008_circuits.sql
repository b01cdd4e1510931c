-- Circuits and dynamic load management (issue 10): the electrical tree chargers hang on, which
-- charger is on which circuit with what priority, and a session's own priority.

CREATE TABLE circuits (
    id                                TEXT PRIMARY KEY,
    name                              TEXT NOT NULL,
    site_id                           TEXT REFERENCES sites (id) ON DELETE SET NULL,
    parent_circuit_id                 TEXT REFERENCES circuits (id),
    phases                            TEXT NOT NULL,
    phase_rotation                    TEXT,
    connected_phase                   TEXT,
    max_current                       REAL NOT NULL,
    max_voltage                       REAL,
    min_charge_point_current          REAL NOT NULL,
    set_session_limit_to_zero_on_idle INTEGER NOT NULL,
    offline_reserved_current          REAL NOT NULL,
    mode                              TEXT NOT NULL,
    created_at                        TEXT NOT NULL,
    updated_at                        TEXT NOT NULL
);
CREATE INDEX circuits_site ON circuits (site_id);
CREATE INDEX circuits_parent ON circuits (parent_circuit_id);

-- A charger is on at most one circuit: its id is the key.
CREATE TABLE circuit_members (
    charge_point_id TEXT PRIMARY KEY COLLATE NOCASE
        REFERENCES charge_points (id) ON DELETE CASCADE,
    circuit_id      TEXT NOT NULL REFERENCES circuits (id),
    priority        REAL NOT NULL
);
CREATE INDEX circuit_members_circuit ON circuit_members (circuit_id, charge_point_id);

-- An EVSE's own priority, overriding its charger's; goes when the charger leaves its circuit.
CREATE TABLE circuit_member_evse_priorities (
    charge_point_id TEXT NOT NULL COLLATE NOCASE
        REFERENCES circuit_members (charge_point_id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    priority        REAL NOT NULL,
    PRIMARY KEY (charge_point_id, evse_id)
);

-- A session's own priority, overriding its charger's (NULL: its charger's).
ALTER TABLE transactions ADD COLUMN priority REAL;
