-- Every change to what a KPI report reads from the roll-up's rows at its window's checkpoints
-- (ADR 009) adds an entry here: a statement that wrote or deleted rows of kpi_days (the
-- roll-up, a late change, the retention, a charger's deletion), one that registered, deleted or
-- moved chargers. A node keeps those reads between requests for as long as the entries' newest
-- id and their count, read in the same snapshot as the rows, stay the same
-- (csms/store/kpi_window_cache.py). Entries, not one counter: writers never wait on each other
-- here. The roll-up prunes them now and then, with a newer entry in the same commit, so that pair
-- only ever grows. Nothing a charger sends in the normal course adds one.
CREATE TABLE kpi_rows_changes (
    id bigserial PRIMARY KEY
);

CREATE FUNCTION kpi_rows_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi_rows_changes DEFAULT VALUES;
    RETURN NULL;
END
$$;

-- Statement triggers fire whether or not a row changed: these look at the rows first (a late
-- change's delete finds none most of the time).
CREATE FUNCTION kpi_days_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM changed) THEN
        INSERT INTO kpi_rows_changes DEFAULT VALUES;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER kpi_days_inserted AFTER INSERT ON kpi_days
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_changed();
CREATE TRIGGER kpi_days_updated AFTER UPDATE ON kpi_days
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_changed();
CREATE TRIGGER kpi_days_deleted AFTER DELETE ON kpi_days
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION kpi_days_changed();
CREATE TRIGGER charge_points_kpi_rows AFTER INSERT OR DELETE OR UPDATE OF id, site_id, created_at
    ON charge_points FOR EACH STATEMENT EXECUTE FUNCTION kpi_rows_changed();
