-- The KPI roll-up's hourly checkpoints (ADR 009): each row of kpi_days also keeps, at every hour
-- boundary of its day, what a window whose edge falls inside the day needs, so that the
-- default window (the last 7 days until now) reads two rows per charger instead of every
-- interval in force at its edges. Today gets a row too, rolled up to the hour the last round
-- began. Rows written before this keep their whole-day figures (hours NULL): windows whose
-- edges fall in them read those edges from the intervals until the roll-up writes them again.

-- NULL: a row without checkpoints; else the hours of the day it covers (24: the whole day; today's
-- row: up to the last round). Its own figures (measured_us...) are over those hours.
ALTER TABLE kpi_days ADD COLUMN hours INTEGER;
-- Per hour, the time not connected while measured, in microseconds: 0 for nearly every hour of
-- nearly every day, which costs a byte. The sum of the first h is the deficit at checkpoint h.
ALTER TABLE kpi_days ADD COLUMN dis_00 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_01 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_02 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_03 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_04 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_05 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_06 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_07 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_08 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_09 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_10 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_11 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_12 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_13 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_14 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_15 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_16 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_17 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_18 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_19 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_20 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_21 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_22 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE kpi_days ADD COLUMN dis_23 INTEGER NOT NULL DEFAULT 0;
-- Bit h (0 to hours): no connection in force just before midnight + h hours.
ALTER TABLE kpi_days ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
-- The first checkpoint by which every socket of the row had been reported (0: none was new).
ALTER TABLE kpi_days ADD COLUMN set_from INTEGER NOT NULL DEFAULT 0;
-- The downtime figures and state at the checkpoints where extrapolating from the one before is
-- wrong (csms.domain.kpi_hours), 'hour:deficit:all_down:every:down:lost;...'; NULL when no socket
-- was down at any moment of the row.
ALTER TABLE kpi_days ADD COLUMN downs TEXT;

-- The newest rows (today's and yesterday's) also keep the start of the week ending at their last
-- checkpoint (csms.domain.kpi_window.Week), so that the default window, the last 7 days, reads one
-- row per charger: its start row's part of the sums, and the sockets' downtime over the days
-- between ('evse/connector=us ...'). NULL in older rows.
ALTER TABLE kpi_days ADD COLUMN week_flags INTEGER;
ALTER TABLE kpi_days ADD COLUMN week_deficit INTEGER;
ALTER TABLE kpi_days ADD COLUMN week_all_down INTEGER;
ALTER TABLE kpi_days ADD COLUMN week_first_sockets TEXT;
ALTER TABLE kpi_days ADD COLUMN week_first_deficit INTEGER;
ALTER TABLE kpi_days ADD COLUMN week_first_anchors TEXT;
ALTER TABLE kpi_days ADD COLUMN week_lost TEXT;

-- The rows a release before this wrote, to write again (a handful once that is done).
CREATE INDEX kpi_days_unpointed ON kpi_days (charge_point_id, day) WHERE hours IS NULL;
-- How far the latest day's rows reach, without reading them.
DROP INDEX kpi_days_day;
CREATE INDEX kpi_days_day ON kpi_days (day, hours);

-- What begins inside a piece of a window, for the whole network at once (ends: the *_closed
-- indexes).
CREATE INDEX status_history_from ON status_history (from_at);
CREATE INDEX connection_history_from ON connection_history (connected_at);
