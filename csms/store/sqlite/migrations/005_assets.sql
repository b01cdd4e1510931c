-- Assets (issue 9): networks and sites (the site tree), the charging-station model catalogue,
-- EVSE records; charge points gain a model, an external id and the answer their last boot got.

CREATE TABLE networks (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    type             TEXT,
    physical_address TEXT,  -- JSON
    contact_details  TEXT,  -- JSON
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE sites (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    type           TEXT NOT NULL,
    network_id     TEXT REFERENCES networks (id),
    parent_site_id TEXT REFERENCES sites (id),
    external_id    TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX sites_network ON sites (network_id);
CREATE INDEX sites_parent ON sites (parent_site_id);

CREATE TABLE charging_station_models (
    id            TEXT PRIMARY KEY,
    vendor        TEXT NOT NULL,
    model         TEXT NOT NULL,
    friendly_name TEXT,
    power_type    TEXT NOT NULL,
    image_url     TEXT,
    is_archived   INTEGER NOT NULL DEFAULT 0,
    connectors    TEXT NOT NULL,  -- JSON
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
-- vendor + model name one live model (a BootNotification links to it); archived ones may repeat.
CREATE UNIQUE INDEX charging_station_models_live
    ON charging_station_models (vendor COLLATE NOCASE, model COLLATE NOCASE) WHERE is_archived = 0;

CREATE TABLE evses (
    charge_point_id    TEXT NOT NULL COLLATE NOCASE REFERENCES charge_points (id) ON DELETE CASCADE,
    evse_id            INTEGER NOT NULL,
    label              TEXT,
    physical_reference TEXT,
    current_type       TEXT,
    max_power          REAL,
    max_voltage        REAL,
    max_amperage       REAL,
    phases             INTEGER,
    phase_rotation     TEXT,
    connected_phase    TEXT,
    updated_at         TEXT NOT NULL,
    PRIMARY KEY (charge_point_id, evse_id)
);

CREATE TABLE connector_specs (
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    type            TEXT,
    format          TEXT,
    PRIMARY KEY (charge_point_id, evse_id, connector_id),
    FOREIGN KEY (charge_point_id, evse_id) REFERENCES evses (charge_point_id, evse_id)
        ON DELETE CASCADE
);

-- site_id was free text: each value in use becomes a site of that id, so no charger loses it.
INSERT INTO sites (id, name, type, created_at, updated_at)
SELECT DISTINCT site_id, site_id, 'site', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  FROM charge_points WHERE site_id IS NOT NULL;

-- registration_status was the operator's override of the next boot answer: it is boot_answer.
-- boot_status is what the charger was last told (the accepted flag is all earlier boots left).
ALTER TABLE charge_points RENAME COLUMN registration_status TO boot_answer;
ALTER TABLE charge_points ADD COLUMN boot_status TEXT;
ALTER TABLE charge_points ADD COLUMN model_id TEXT REFERENCES charging_station_models (id);
ALTER TABLE charge_points ADD COLUMN external_id TEXT;
UPDATE charge_points SET boot_status = CASE
    WHEN boot_accepted = 1 THEN 'Accepted'
    ELSE coalesce(boot_answer, 'Pending') END
 WHERE last_boot_at IS NOT NULL;
-- (site_id, id): covers the site tree's read of every charger by site.
CREATE INDEX charge_points_site ON charge_points (site_id, id);
CREATE INDEX charge_points_model ON charge_points (model_id);
