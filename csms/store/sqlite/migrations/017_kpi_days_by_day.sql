-- kpi_days keyed by day first (ADR 009): a KPI window reads one or two days' rows of every
-- charger in scope, and keyed by charger first each of those lookups landed on a leaf page of its
-- own, across every day the retention keeps (a network's week read 10,000 pages of a table 400
-- days deep: 120 ms on a 155-day table, against 45-50 ms with the day's rows side by side, and
-- the gap grows with the retention). A charger's own rows (the roll-up's progress, a late change
-- deleting from a day on, the foreign keys) go through the unique index on (charger, day).
-- Rebuilt as SQLite rebuilds a table (a new one, copied, renamed): a one-off copy of every row.

CREATE TABLE kpi_days_by_day (
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
    -- The hourly checkpoints and the week (016_kpi_hours.sql says what each holds).
    hours            INTEGER,
    dis_00 INTEGER NOT NULL DEFAULT 0, dis_01 INTEGER NOT NULL DEFAULT 0,
    dis_02 INTEGER NOT NULL DEFAULT 0, dis_03 INTEGER NOT NULL DEFAULT 0,
    dis_04 INTEGER NOT NULL DEFAULT 0, dis_05 INTEGER NOT NULL DEFAULT 0,
    dis_06 INTEGER NOT NULL DEFAULT 0, dis_07 INTEGER NOT NULL DEFAULT 0,
    dis_08 INTEGER NOT NULL DEFAULT 0, dis_09 INTEGER NOT NULL DEFAULT 0,
    dis_10 INTEGER NOT NULL DEFAULT 0, dis_11 INTEGER NOT NULL DEFAULT 0,
    dis_12 INTEGER NOT NULL DEFAULT 0, dis_13 INTEGER NOT NULL DEFAULT 0,
    dis_14 INTEGER NOT NULL DEFAULT 0, dis_15 INTEGER NOT NULL DEFAULT 0,
    dis_16 INTEGER NOT NULL DEFAULT 0, dis_17 INTEGER NOT NULL DEFAULT 0,
    dis_18 INTEGER NOT NULL DEFAULT 0, dis_19 INTEGER NOT NULL DEFAULT 0,
    dis_20 INTEGER NOT NULL DEFAULT 0, dis_21 INTEGER NOT NULL DEFAULT 0,
    dis_22 INTEGER NOT NULL DEFAULT 0, dis_23 INTEGER NOT NULL DEFAULT 0,
    offline            INTEGER NOT NULL DEFAULT 0,
    set_from           INTEGER NOT NULL DEFAULT 0,
    downs              TEXT,
    week_flags         INTEGER,
    week_deficit       INTEGER,
    week_all_down      INTEGER,
    week_first_sockets TEXT,
    week_first_deficit INTEGER,
    week_first_anchors TEXT,
    week_lost          TEXT,
    PRIMARY KEY (day, charge_point_id)
) WITHOUT ROWID;

INSERT INTO kpi_days_by_day SELECT * FROM kpi_days ORDER BY day, charge_point_id;
DROP TABLE kpi_days;
ALTER TABLE kpi_days_by_day RENAME TO kpi_days;

-- A charger's rows, and the parent key of kpi_day_downtime's foreign key.
CREATE UNIQUE INDEX kpi_days_charger ON kpi_days (charge_point_id, day);
CREATE INDEX kpi_days_unpointed ON kpi_days (charge_point_id, day) WHERE hours IS NULL;
CREATE INDEX kpi_days_day ON kpi_days (day, hours);
