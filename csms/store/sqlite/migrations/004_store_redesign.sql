-- The store redesign (ADR 003). Transactions keep their own accounting (the rules are
-- csms.domain.transactions'): the readings that may become meter start/stop, and the 2.0.1
-- seqNos seen. Meter values and the message log become compact: times in milliseconds, sample
-- kinds interned, and one message-log row per exchange (a CALL with its answer).

ALTER TABLE transactions ADD COLUMN meter_start_at TEXT;
ALTER TABLE transactions ADD COLUMN meter_start_seq INTEGER;
ALTER TABLE transactions ADD COLUMN meter_start_fixed INTEGER;
ALTER TABLE transactions RENAME COLUMN meter_stop_wh TO meter_end_wh;
ALTER TABLE transactions ADD COLUMN meter_end_at TEXT;
ALTER TABLE transactions ADD COLUMN meter_end_seq INTEGER;
ALTER TABLE transactions ADD COLUMN meter_end_fixed INTEGER;
ALTER TABLE transactions ADD COLUMN seq_nos TEXT;

-- 1.6 transactions (no events): meterStart and meterStop are final.
UPDATE transactions SET meter_start_at = started_at, meter_start_seq = 0, meter_start_fixed = 1
 WHERE meter_start_wh IS NOT NULL AND pk NOT IN (SELECT transaction_pk FROM transaction_events);
UPDATE transactions SET meter_end_at = stopped_at, meter_end_seq = 0, meter_end_fixed = 1
 WHERE meter_end_wh IS NOT NULL AND pk NOT IN (SELECT transaction_pk FROM transaction_events);

-- 2.0.1 transactions: from the events recorded so far.
UPDATE transactions SET (meter_start_wh, meter_start_at, meter_start_seq, meter_start_fixed) = (
    SELECT e.energy_register_wh, e.timestamp, e.seq_no, e.event_type = 'Started'
      FROM transaction_events e
     WHERE e.transaction_pk = transactions.pk AND e.energy_register_wh IS NOT NULL
     ORDER BY e.event_type = 'Started' DESC, e.timestamp, e.seq_no LIMIT 1)
 WHERE pk IN (SELECT transaction_pk FROM transaction_events);
UPDATE transactions SET (meter_end_wh, meter_end_at, meter_end_seq, meter_end_fixed) = (
    SELECT e.energy_register_wh, e.timestamp, e.seq_no, e.event_type = 'Ended'
      FROM transaction_events e
     WHERE e.transaction_pk = transactions.pk AND e.energy_register_wh IS NOT NULL
     ORDER BY e.event_type = 'Ended' DESC, e.timestamp DESC, e.seq_no DESC LIMIT 1)
 WHERE pk IN (SELECT transaction_pk FROM transaction_events);
UPDATE transactions SET seq_nos = (
    SELECT group_concat(CASE WHEN lo = hi THEN lo ELSE lo || '-' || hi END, ',')
      FROM (SELECT MIN(seq_no) AS lo, MAX(seq_no) AS hi
              FROM (SELECT seq_no, seq_no - ROW_NUMBER() OVER (ORDER BY seq_no) AS island
                      FROM transaction_events WHERE transaction_pk = transactions.pk)
             GROUP BY island ORDER BY lo))
 WHERE pk IN (SELECT transaction_pk FROM transaction_events);

-- Meter values: what a sample is (measurand, phase, unit, context, location, format) is interned
-- once in sample_kinds; a sample row keeps its time in ms and the kind's number.
CREATE TABLE sample_kinds (
    id        INTEGER PRIMARY KEY,
    measurand TEXT NOT NULL,
    phase     TEXT NOT NULL,
    unit      TEXT NOT NULL,
    context   TEXT NOT NULL,
    location  TEXT NOT NULL,
    format    TEXT NOT NULL,
    UNIQUE (measurand, phase, unit, context, location, format)
);
INSERT INTO sample_kinds (measurand, phase, unit, context, location, format)
    SELECT DISTINCT measurand, phase, unit, context, location, format FROM meter_values;

CREATE TABLE meter_samples (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    transaction_pk  INTEGER REFERENCES transactions(pk),
    at              INTEGER NOT NULL,  -- ms since the epoch, UTC
    kind            INTEGER NOT NULL REFERENCES sample_kinds(id),
    value           TEXT NOT NULL,
    -- A sample delivered twice (a retried message) is stored once.
    UNIQUE (charge_point_id, evse_id, connector_id, at, kind)
);
INSERT OR IGNORE INTO meter_samples
    SELECT m.id, m.charge_point_id, m.evse_id, m.connector_id, m.transaction_pk,
           CAST(strftime('%s', substr(m.timestamp, 1, 19)) AS INTEGER) * 1000
             + CAST(substr(m.timestamp, 21, 3) AS INTEGER),
           k.id, m.value
      FROM meter_values m
      JOIN sample_kinds k ON k.measurand = m.measurand AND k.phase = m.phase AND k.unit = m.unit
       AND k.context = m.context AND k.location = m.location AND k.format = m.format
     ORDER BY m.id;
DROP TABLE meter_values;
ALTER TABLE meter_samples RENAME TO meter_values;
CREATE INDEX meter_values_transaction ON meter_values (transaction_pk, at, id);

-- The message log: one row per exchange. "first" is the CALL (or a frame with no partner), the
-- answer its CALLRESULT/CALLERROR; bodies are the payload alone (the unique id and action have
-- columns), so a frame costs its payload and a few bytes.
CREATE TABLE message_log (
    id              INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL COLLATE NOCASE,
    unique_id       TEXT,
    action          TEXT,
    outgoing        INTEGER NOT NULL,  -- the first frame went to the charger (1) or came from it (0)
    first_type      INTEGER NOT NULL,  -- 2 Call, 3 CallResult, 4 CallError, 0 not OCPP-J
    first_at        INTEGER NOT NULL,  -- ms since the epoch, UTC
    first_body      TEXT NOT NULL,
    answer_type     INTEGER,
    answer_at       INTEGER,
    answer_body     TEXT
);
INSERT INTO message_log (charge_point_id, unique_id, action, outgoing, first_type, first_at,
                         first_body)
    SELECT charge_point_id, unique_id, action, direction = 'out', message_type,
           CAST(strftime('%s', substr(timestamp, 1, 19)) AS INTEGER) * 1000
             + CAST(substr(timestamp, 21, 3) AS INTEGER),
           CASE
             WHEN NOT json_valid(payload) THEN payload
             WHEN message_type = 2 AND json_array_length(payload) = 4 THEN json_extract(payload, '$[3]')
             WHEN message_type = 3 AND json_array_length(payload) = 3 THEN json_extract(payload, '$[2]')
             WHEN message_type = 4 AND json_array_length(payload) = 5 THEN json_array(
                  json_extract(payload, '$[2]'), json_extract(payload, '$[3]'),
                  json(json_extract(payload, '$[4]')))
             ELSE payload
           END
      FROM ocpp_messages ORDER BY id;
DROP TABLE ocpp_messages;
CREATE INDEX message_log_charge_point ON message_log (charge_point_id, id);
CREATE INDEX message_log_at ON message_log (first_at);
