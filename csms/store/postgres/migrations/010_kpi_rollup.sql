-- The KPI roll-up (ADR 009): per charger and UTC day that has ended, the durations its uptime
-- and connectivity add up from, with running totals, so a network's week reads two rows per
-- charger instead of every interval. Written by the roll-up task from the day's history, deleted
-- from a day on by a late change to that history (in the change's commit), purged with the
-- history.
-- Durations are microseconds.

CREATE TABLE kpi_days (
    charge_point_id  citext NOT NULL REFERENCES charge_points (id) ON DELETE CASCADE,
    day              date NOT NULL,
    -- The day's own figures.
    measured_us      bigint NOT NULL, -- from its registration (or midnight) to the next midnight
    connected_us     bigint NOT NULL,
    sockets          text NOT NULL,   -- the sockets its history knows: '1/1 1/2', '' none
    all_down_us      bigint NOT NULL, -- all of those down at once while connected
    -- Running totals over the charger's rows before this day, so that a range of days reads
    -- two rows (its first and its last) whatever its length.
    run_days         integer NOT NULL, -- how many rows
    run_measured_us  bigint NOT NULL,
    run_connected_us bigint NOT NULL,
    set_run          integer NOT NULL, -- rows in a row up to this one knowing the same sockets
    run_all_down_us  bigint NOT NULL, -- all_down_us over those before this one
    PRIMARY KEY (charge_point_id, day)
);
-- Retention: the oldest days first.
CREATE INDEX kpi_days_day ON kpi_days (day);

-- Only sockets that were down while connected that day: one without a row was up whenever its
-- charger was connected (unknown counts as up), so sums stay exact.
CREATE TABLE kpi_day_downtime (
    charge_point_id citext NOT NULL,
    day             date NOT NULL,
    evse_id         integer NOT NULL,
    connector_id    integer NOT NULL,
    down_us         bigint NOT NULL,
    PRIMARY KEY (charge_point_id, day, evse_id, connector_id),
    FOREIGN KEY (charge_point_id, day) REFERENCES kpi_days (charge_point_id, day)
        ON DELETE CASCADE
);
