-- Monitoring queries (ADR 007): meter values by charger and time window, and what chargers
-- reported (security events, NotifyEvent, 1.6 status errors), newest first, in time windows.

-- Meter values: the key that stores a sample once becomes (charger, time, EVSE, connector,
-- kind) instead of (charger, EVSE, connector, time, kind). The same columns, so the same
-- duplicates are refused, but now the one index also finds a charger's samples in a time window,
-- in the order GET /meter-values pages them. No index is added to the busiest insert; the new
-- index is built once here (writes to the table wait meanwhile).
CREATE UNIQUE INDEX meter_values_position
    ON meter_values (charge_point_id, at, evse_id, connector_id, kind);
ALTER TABLE meter_values
    DROP CONSTRAINT meter_values_charge_point_id_evse_id_connector_id_at_kind_key;

-- Charger reports: when the CSMS received each one (the timestamp is the charger's), and a
-- charger's reports of a kind in the charger's time order, for the newest-first lists.
ALTER TABLE charger_reports ADD COLUMN received_at timestamptz;
CREATE INDEX charger_reports_time ON charger_reports (charge_point_id, kind, timestamp, id);

-- A NotifyEvent used to be one row per message, stamped when it arrived; it becomes one row per
-- event (its own time, the message's generatedAt and seqNo beside its fields), so events page
-- and filter by time one by one. The old stamp is when it arrived. A time that does not read as
-- one (the charger's text was stored as sent) falls back to that stamp.
INSERT INTO charger_reports (charge_point_id, kind, timestamp, data, received_at)
    SELECT r.charge_point_id, 'event',
           CASE WHEN e.value ->> 'timestamp'
                     ~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|z|[+-]\d\d(:?\d\d)?)?$'
                THEN (e.value ->> 'timestamp')::timestamptz
                ELSE r.timestamp END,
           e.value || jsonb_build_object('generatedAt', r.data -> 'generatedAt',
                                         'seqNo', r.data -> 'seqNo'),
           r.timestamp
      FROM charger_reports r,
           jsonb_array_elements(r.data -> 'eventData') WITH ORDINALITY AS e (value, n)
     WHERE r.kind = 'event' AND jsonb_typeof(r.data -> 'eventData') = 'array'
     ORDER BY r.id, e.n;
DELETE FROM charger_reports WHERE kind = 'event' AND jsonb_typeof(data -> 'eventData') = 'array';
