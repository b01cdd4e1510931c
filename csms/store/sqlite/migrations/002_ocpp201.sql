-- OCPP 2.0.1: transaction events by seqNo, the charger's device model, and what chargers report.

ALTER TABLE transactions ADD COLUMN charging_state TEXT;
ALTER TABLE transactions ADD COLUMN remote_start_id INTEGER;

-- One row per TransactionEvent: replays (same seqNo) are recognised, gaps found, and the energy
-- register read at each event kept.
CREATE TABLE transaction_events (
    transaction_pk     INTEGER NOT NULL REFERENCES transactions(pk),
    seq_no             INTEGER NOT NULL,
    event_type         TEXT NOT NULL,
    trigger_reason     TEXT NOT NULL,
    timestamp          TEXT NOT NULL,
    offline            INTEGER NOT NULL DEFAULT 0,
    energy_register_wh REAL,
    PRIMARY KEY (transaction_pk, seq_no)
);

-- The device model from NotifyReport: one row per variable attribute.
CREATE TABLE device_variables (
    charge_point_id    TEXT NOT NULL COLLATE NOCASE,
    component          TEXT NOT NULL,
    component_instance TEXT NOT NULL DEFAULT '',
    evse_id            INTEGER NOT NULL DEFAULT -1,
    connector_id       INTEGER NOT NULL DEFAULT -1,
    variable           TEXT NOT NULL,
    variable_instance  TEXT NOT NULL DEFAULT '',
    attribute_type     TEXT NOT NULL DEFAULT 'Actual',
    value              TEXT,
    mutability         TEXT,
    persistent         INTEGER,
    constant           INTEGER,
    data_type          TEXT,
    unit               TEXT,
    min_limit          REAL,
    max_limit          REAL,
    values_list        TEXT,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (charge_point_id, component, component_instance, evse_id, connector_id,
                 variable, variable_instance, attribute_type)
);

-- Reports without a table of their own (NotifyEvent, security events, charging limits and
-- profiles reported by the charger, EV charging needs): kept whole, by kind.
CREATE TABLE charger_reports (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    kind            TEXT NOT NULL,
    timestamp       TEXT NOT NULL,
    data            TEXT NOT NULL
);
CREATE INDEX charger_reports_charge_point ON charger_reports (charge_point_id, kind, id);
