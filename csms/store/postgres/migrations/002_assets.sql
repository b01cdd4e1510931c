-- Assets (issue 9): networks and sites (the site tree), the charging-station model catalogue,
-- EVSE records; charge points gain a model, an external id and the answer their last boot got.

CREATE TABLE networks (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    type             text,
    physical_address jsonb,
    contact_details  jsonb,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE sites (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    type           text NOT NULL,
    network_id     text REFERENCES networks (id),
    parent_site_id text REFERENCES sites (id),
    external_id    text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX sites_network ON sites (network_id);
CREATE INDEX sites_parent ON sites (parent_site_id);

CREATE TABLE charging_station_models (
    id            text PRIMARY KEY,
    vendor        text NOT NULL,
    model         text NOT NULL,
    friendly_name text,
    power_type    text NOT NULL,
    image_url     text,
    is_archived   boolean NOT NULL DEFAULT false,
    connectors    jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- vendor + model name one live model (a BootNotification links to it); archived ones may repeat.
CREATE UNIQUE INDEX charging_station_models_live
    ON charging_station_models (lower(vendor), lower(model)) WHERE NOT is_archived;

CREATE TABLE evses (
    charge_point_id    citext NOT NULL REFERENCES charge_points (id) ON DELETE CASCADE,
    evse_id            integer NOT NULL,
    label              text,
    physical_reference text,
    current_type       text,
    max_power          double precision,
    max_voltage        double precision,
    max_amperage       double precision,
    phases             integer,
    phase_rotation     text,
    connected_phase    text,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (charge_point_id, evse_id)
);

CREATE TABLE connector_specs (
    charge_point_id citext NOT NULL,
    evse_id         integer NOT NULL,
    connector_id    integer NOT NULL,
    type            text,
    format          text,
    PRIMARY KEY (charge_point_id, evse_id, connector_id),
    FOREIGN KEY (charge_point_id, evse_id) REFERENCES evses (charge_point_id, evse_id)
        ON DELETE CASCADE
);

-- site_id was free text: each value in use becomes a site of that id, so no charger loses it.
INSERT INTO sites (id, name, type, created_at, updated_at)
SELECT DISTINCT site_id, site_id, 'site', now(), now()
  FROM charge_points WHERE site_id IS NOT NULL;

-- registration_status was the operator's override of the next boot answer: it is boot_answer.
-- boot_status is what the charger was last told (the accepted flag is all earlier boots left).
ALTER TABLE charge_points RENAME COLUMN registration_status TO boot_answer;
ALTER TABLE charge_points ADD COLUMN boot_status text;
ALTER TABLE charge_points ADD COLUMN model_id text REFERENCES charging_station_models (id);
ALTER TABLE charge_points ADD COLUMN external_id text;
UPDATE charge_points SET boot_status = CASE
    WHEN boot_accepted THEN 'Accepted'
    ELSE coalesce(boot_answer, 'Pending') END
 WHERE last_boot_at IS NOT NULL;
ALTER TABLE charge_points ADD CONSTRAINT charge_points_site FOREIGN KEY (site_id) REFERENCES sites (id);
-- (site_id, id): covers the site tree's read of every charger by site.
CREATE INDEX charge_points_site ON charge_points (site_id, id);
CREATE INDEX charge_points_model ON charge_points (model_id);
