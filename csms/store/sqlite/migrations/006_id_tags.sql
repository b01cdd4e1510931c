-- Id-tags: the 2.0.1 type becomes optional, and records gain userId, externalId and
-- lastUpdatedAt (issue 9; docs/API.md, "Id-tags").
--
-- A record without a type matches a 2.0.1 idToken of its value whatever type the charger
-- presents; a typed record matches only that type (csms.domain.authorization.matches). Until
-- now the type was NOT NULL and filled with 'Central' when the operator gave none, so nearly
-- every existing 'Central' is that default, and a typed 'Central' record would answer Invalid
-- to the RFID card it stands for when a reader presents it as ISO14443. Existing 'Central'
-- types therefore become NULL (a record meant for Central tokens only cannot be told apart;
-- it now matches its value in any type, which is what the operator saw with 1.6 chargers).
--
-- SQLite cannot drop NOT NULL with ALTER TABLE: the table is rebuilt (foreign keys are off
-- while migrations run; no other table references id_tags). An existing row was last updated,
-- as far as anyone knows, when it was created.

CREATE TABLE id_tags_new (
    uid             TEXT PRIMARY KEY COLLATE NOCASE,
    type            TEXT,
    status          TEXT NOT NULL,
    expire_at       TEXT,
    parent_id_tag   TEXT,
    label           TEXT,
    user_id         TEXT,
    external_id     TEXT,
    created_at      TEXT NOT NULL,
    last_updated_at TEXT NOT NULL
);

INSERT INTO id_tags_new (uid, type, status, expire_at, parent_id_tag, label, created_at,
                         last_updated_at)
SELECT uid, NULLIF(type, 'Central'), status, expire_at, parent_id_tag, label, created_at,
       created_at
  FROM id_tags;

DROP TABLE id_tags;
ALTER TABLE id_tags_new RENAME TO id_tags;

-- ?userId= lists in uid order (the cursor) straight from the index.
CREATE INDEX id_tags_user_id ON id_tags (user_id, uid);
