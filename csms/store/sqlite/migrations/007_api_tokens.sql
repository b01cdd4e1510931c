-- API tokens get a public id (the key the API and the CLI use to list and revoke them), an
-- optional label, an expiry, the time of last use and where they came from. The table is rebuilt
-- because SQLite cannot change a primary key or drop NOT NULL in place.
--
-- The existing `name` column is kept and holds the label. Existing rows keep their hash (so
-- their tokens keep working) and get a random id. Their origin was never recorded: they are
-- marked `cli`; at the next start the config file's tokens are installed again, which marks
-- those still listed there as `config` (so only tokens from the CLI and tokens dropped from the
-- config file before this upgrade stay `cli`; `csms token revoke` removes them).

CREATE TABLE api_tokens_new (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    name         TEXT,
    role         TEXT NOT NULL,
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    last_used_at TEXT
);

INSERT INTO api_tokens_new (id, token_hash, name, role, source, created_at)
    SELECT 'tok_' || lower(hex(randomblob(12))), token_hash, name, role, 'cli', created_at
      FROM api_tokens;

DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
