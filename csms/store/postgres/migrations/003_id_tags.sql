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
-- An existing row was last updated, as far as anyone knows, when it was created.

ALTER TABLE id_tags
    ALTER COLUMN type DROP DEFAULT,
    ALTER COLUMN type DROP NOT NULL,
    ADD COLUMN user_id text,
    ADD COLUMN external_id text,
    ADD COLUMN last_updated_at timestamptz;

UPDATE id_tags SET type = NULLIF(type, 'Central'), last_updated_at = created_at;

ALTER TABLE id_tags ALTER COLUMN last_updated_at SET NOT NULL;

-- ?userId= lists in uid order (the cursor) straight from the index.
CREATE INDEX id_tags_user_id ON id_tags (user_id, uid);
