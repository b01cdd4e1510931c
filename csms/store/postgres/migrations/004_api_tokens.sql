-- API tokens get a public id (the key the API and the CLI use to list and revoke them), an
-- optional label, an expiry, the time of last use and where they came from.
--
-- The existing `name` column is kept and holds the label. Existing rows keep their hash (so
-- their tokens keep working) and get a random id. Their origin was never recorded: they are
-- marked `cli`; at the next start the config file's tokens are installed again, which marks
-- those still listed there as `config` (so only tokens from the CLI and tokens dropped from the
-- config file before this upgrade stay `cli`; `csms token revoke` removes them).

ALTER TABLE api_tokens
    ALTER COLUMN name DROP NOT NULL,
    ADD COLUMN id text,
    ADD COLUMN source text NOT NULL DEFAULT 'cli',
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN last_used_at timestamptz;

UPDATE api_tokens SET id = 'tok_' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 24);

ALTER TABLE api_tokens
    DROP CONSTRAINT api_tokens_pkey,
    ALTER COLUMN id SET NOT NULL,
    ALTER COLUMN source DROP DEFAULT,
    ADD PRIMARY KEY (id),
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);
