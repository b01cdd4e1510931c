-- A number that changes with every change to what a KPI report reads from the roll-up's rows at
-- its window's checkpoints (ADR 009): a row of kpi_days written or deleted (the roll-up, a late
-- change, the retention, a charger's deletion), a charger registered, deleted or moved to
-- another site. The store keeps those reads between requests for as long as the number holds
-- (csms/store/kpi_window_cache.py). Nothing a charger sends in the normal course touches these.
CREATE TABLE kpi_rows_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO kpi_rows_version (id, version) VALUES (1, 0);

CREATE TRIGGER kpi_days_inserted AFTER INSERT ON kpi_days
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
CREATE TRIGGER kpi_days_updated AFTER UPDATE ON kpi_days
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
CREATE TRIGGER kpi_days_deleted AFTER DELETE ON kpi_days
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
CREATE TRIGGER charge_points_registered AFTER INSERT ON charge_points
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
CREATE TRIGGER charge_points_deleted AFTER DELETE ON charge_points
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
CREATE TRIGGER charge_points_moved AFTER UPDATE OF id, site_id, created_at ON charge_points
BEGIN
    UPDATE kpi_rows_version SET version = version + 1;
END;
