-- Circuits and dynamic load management (issue 10): the electrical tree chargers hang on, which
-- charger is on which circuit with what priority, and a session's own priority.

CREATE TABLE circuits (
    id                                text PRIMARY KEY,
    name                              text NOT NULL,
    site_id                           text REFERENCES sites (id) ON DELETE SET NULL,
    parent_circuit_id                 text REFERENCES circuits (id),
    phases                            text NOT NULL,
    phase_rotation                    text,
    connected_phase                   text,
    max_current                       double precision NOT NULL,
    max_voltage                       double precision,
    min_charge_point_current          double precision NOT NULL,
    set_session_limit_to_zero_on_idle boolean NOT NULL,
    offline_reserved_current          double precision NOT NULL,
    mode                              text NOT NULL,
    created_at                        timestamptz NOT NULL,
    updated_at                        timestamptz NOT NULL
);
CREATE INDEX circuits_site ON circuits (site_id);
CREATE INDEX circuits_parent ON circuits (parent_circuit_id);

-- A charger is on at most one circuit: its id is the key.
CREATE TABLE circuit_members (
    charge_point_id citext PRIMARY KEY REFERENCES charge_points (id) ON DELETE CASCADE,
    circuit_id      text NOT NULL REFERENCES circuits (id),
    priority        double precision NOT NULL
);
CREATE INDEX circuit_members_circuit ON circuit_members (circuit_id, charge_point_id);

-- An EVSE's own priority, overriding its charger's; goes when the charger leaves its circuit.
CREATE TABLE circuit_member_evse_priorities (
    charge_point_id citext NOT NULL REFERENCES circuit_members (charge_point_id) ON DELETE CASCADE,
    evse_id         integer NOT NULL,
    priority        double precision NOT NULL,
    PRIMARY KEY (charge_point_id, evse_id)
);

-- A session's own priority, overriding its charger's (NULL: its charger's).
ALTER TABLE transactions ADD COLUMN priority double precision;
