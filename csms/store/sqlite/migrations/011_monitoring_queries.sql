-- Monitoring queries (ADR 007): meter values by charger and time window, and what chargers
-- reported (security events, NotifyEvent, 1.6 status errors), newest first, in time windows.

-- Meter values: the key that stores a sample once becomes (charger, time, EVSE, connector,
-- kind) instead of (charger, EVSE, connector, time, kind). The same columns, so the same
-- duplicates are refused, but now the one index also finds a charger's samples in a time window,
-- in the order GET /meter-values pages them. No index is added to the busiest insert. SQLite
-- cannot drop a table's UNIQUE constraint, so the table is rebuilt once (about 6 s per million
-- samples on a small machine, and room for a second copy of the table meanwhile).
CREATE TABLE meter_values_rebuilt (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    transaction_pk  INTEGER REFERENCES transactions(pk),
    at              INTEGER NOT NULL,  -- ms since the epoch, UTC
    kind            INTEGER NOT NULL REFERENCES sample_kinds(id),
    value           TEXT NOT NULL
);
INSERT INTO meter_values_rebuilt (id, charge_point_id, evse_id, connector_id, transaction_pk, at,
                                  kind, value)
    SELECT id, charge_point_id, evse_id, connector_id, transaction_pk, at, kind, value
      FROM meter_values ORDER BY id;
DROP TABLE meter_values;
ALTER TABLE meter_values_rebuilt RENAME TO meter_values;
-- A sample delivered twice (a retried message) is stored once.
CREATE UNIQUE INDEX meter_values_position
    ON meter_values (charge_point_id, at, evse_id, connector_id, kind);
CREATE INDEX meter_values_transaction ON meter_values (transaction_pk, at, id);

-- Charger reports: when the CSMS received each one (the timestamp is the charger's), and a
-- charger's reports of a kind in the charger's time order, for the newest-first lists.
ALTER TABLE charger_reports ADD COLUMN received_at TEXT;
CREATE INDEX charger_reports_time ON charger_reports (charge_point_id, kind, timestamp);

-- A NotifyEvent used to be one row per message, stamped when it arrived; it becomes one row per
-- event (its own time, the message's generatedAt and seqNo beside its fields), so events page
-- and filter by time one by one. The old stamp is when it arrived.
INSERT INTO charger_reports (charge_point_id, kind, timestamp, data, received_at)
    SELECT r.charge_point_id, 'event',
           coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(e.value, '$.timestamp')),
                    r.timestamp),
           json_set(e.value, '$.generatedAt', json_extract(r.data, '$.generatedAt'),
                    '$.seqNo', json_extract(r.data, '$.seqNo')),
           r.timestamp
      FROM charger_reports r, json_each(r.data, '$.eventData') e
     WHERE r.kind = 'event' AND json_type(r.data, '$.eventData') = 'array'
     ORDER BY r.id, e.key;
DELETE FROM charger_reports WHERE kind = 'event' AND json_type(data, '$.eventData') = 'array';
