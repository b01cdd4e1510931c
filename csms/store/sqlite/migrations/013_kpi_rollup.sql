-- The KPI roll-up (ADR 009): per charger and UTC day that has ended, the durations its uptime
-- and connectivity add up from, with running totals, so a network's week reads two rows per
-- charger instead of every interval. Written by the roll-up task from the day's history, deleted
-- from a day on by a late change to that history (in the change's commit), purged with the
-- history.
-- Durations are microseconds; a day is counted in days since 1970-01-01.

CREATE TABLE kpi_days (
    charge_point_id  TEXT NOT NULL COLLATE NOCASE REFERENCES charge_points(id) ON DELETE CASCADE,
    day              INTEGER NOT NULL,
    -- The day's own figures.
    measured_us      INTEGER NOT NULL, -- from its registration (or midnight) to the next midnight
    connected_us     INTEGER NOT NULL,
    sockets          TEXT NOT NULL,   -- the sockets its history knows: '1/1 1/2', '' none
    all_down_us      INTEGER NOT NULL, -- all of those down at once while connected
    -- Running totals over the charger's rows before this day, so that a range of days reads
    -- two rows (its first and its last) whatever its length.
    run_days         INTEGER NOT NULL, -- how many rows
    run_measured_us  INTEGER NOT NULL,
    run_connected_us INTEGER NOT NULL,
    set_run          INTEGER NOT NULL, -- rows in a row up to this one knowing the same sockets
    run_all_down_us  INTEGER NOT NULL, -- all_down_us over those before this one
    PRIMARY KEY (charge_point_id, day)
) WITHOUT ROWID;
-- Retention: the oldest days first.
CREATE INDEX kpi_days_day ON kpi_days (day);

-- Only sockets that were down while connected that day: one without a row was up whenever its
-- charger was connected (unknown counts as up), so sums stay exact.
CREATE TABLE kpi_day_downtime (
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    day             INTEGER NOT NULL,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    down_us         INTEGER NOT NULL,
    PRIMARY KEY (charge_point_id, day, evse_id, connector_id),
    FOREIGN KEY (charge_point_id, day) REFERENCES kpi_days (charge_point_id, day)
        ON DELETE CASCADE
) WITHOUT ROWID;
