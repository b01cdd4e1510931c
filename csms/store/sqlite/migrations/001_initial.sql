-- Charge points, their connectors, id-tags, API tokens, transactions, meter values, frame log.
-- Timestamps are TEXT in one fixed-width UTC format (YYYY-MM-DDTHH:MM:SS.mmmZ) so they sort as text.

CREATE TABLE charge_points (
    id                  TEXT PRIMARY KEY COLLATE NOCASE,
    name                TEXT,
    password_hash       TEXT,
    security_profile    INTEGER NOT NULL DEFAULT 0,
    site_id             TEXT,
    registration_status TEXT,
    ocpp_version        TEXT,
    boot_accepted       INTEGER NOT NULL DEFAULT 0,
    vendor              TEXT,
    model               TEXT,
    serial_number       TEXT,
    firmware_version    TEXT,
    iccid               TEXT,
    imsi                TEXT,
    meter_type          TEXT,
    meter_serial_number TEXT,
    last_boot_at        TEXT,
    firmware_status     TEXT,
    diagnostics_status  TEXT,
    connected           INTEGER NOT NULL DEFAULT 0,
    connected_since     TEXT,
    last_seen_at        TEXT,
    created_at          TEXT NOT NULL
);

CREATE TABLE connectors (
    charge_point_id   TEXT NOT NULL COLLATE NOCASE REFERENCES charge_points(id) ON DELETE CASCADE,
    evse_id           INTEGER NOT NULL,
    connector_id      INTEGER NOT NULL,
    status            TEXT NOT NULL,
    error_code        TEXT,
    info              TEXT,
    vendor_error_code TEXT,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (charge_point_id, evse_id, connector_id)
);

CREATE TABLE id_tags (
    uid           TEXT PRIMARY KEY COLLATE NOCASE,
    type          TEXT NOT NULL DEFAULT 'Central',
    status        TEXT NOT NULL,
    expire_at     TEXT,
    parent_id_tag TEXT,
    label         TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE transactions (
    pk              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    transaction_id  TEXT NOT NULL,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT,
    status          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    stopped_at      TEXT,
    meter_start_wh  REAL,
    meter_stop_wh   REAL,
    stop_reason     TEXT,
    stop_id_tag     TEXT,
    reservation_id  INTEGER,
    -- What makes a replayed 1.6 StartTransaction the same one: connector, idTag, timestamp, meterStart.
    start_key       TEXT UNIQUE,
    UNIQUE (charge_point_id, transaction_id)
);
CREATE INDEX transactions_active ON transactions (charge_point_id, status);
CREATE INDEX transactions_transaction_id ON transactions (transaction_id);

CREATE TABLE meter_values (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    transaction_pk  INTEGER REFERENCES transactions(pk),
    timestamp       TEXT NOT NULL,
    measurand       TEXT NOT NULL,
    phase           TEXT NOT NULL DEFAULT '',
    unit            TEXT NOT NULL,
    value           TEXT NOT NULL,
    context         TEXT NOT NULL,
    location        TEXT NOT NULL,
    format          TEXT NOT NULL,
    -- A sample delivered twice (a retried message) is stored once.
    UNIQUE (charge_point_id, evse_id, connector_id, timestamp, measurand, phase, location, context)
);
CREATE INDEX meter_values_transaction ON meter_values (transaction_pk, timestamp, id);

CREATE TABLE ocpp_messages (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    direction       TEXT NOT NULL,
    message_type    INTEGER NOT NULL,
    unique_id       TEXT,
    action          TEXT,
    payload         TEXT NOT NULL,
    timestamp       TEXT NOT NULL
);
CREATE INDEX ocpp_messages_charge_point ON ocpp_messages (charge_point_id, id);
CREATE INDEX ocpp_messages_timestamp ON ocpp_messages (timestamp);
