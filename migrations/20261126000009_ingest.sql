-- Real data in: per-org API tokens (only a hash stored), a record of every load, and a data
-- version per org that every app instance's board cache compares before reusing a summary.

CREATE TABLE io_api_token (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- SHA-256 of the token (hex). Tokens are 256 random bits, so a fast hash is enough: there is
    -- nothing to guess, and a lookup must be cheap on every request.
    token_hash    text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    -- The first characters, shown to tell tokens apart.
    prefix        text NOT NULL,
    scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read']),
    created_by    uuid REFERENCES io_user (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX io_api_token_org ON io_api_token (org_id, created_at DESC);

CREATE TABLE io_ingest_load (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    target      text NOT NULL CHECK (target IN ('kpi', 'signal')),
    channel     text NOT NULL CHECK (channel IN ('api', 'upload')),
    -- A token's name or a user's email.
    actor       text NOT NULL,
    mode        text NOT NULL CHECK (mode IN ('all_or_nothing', 'partial')),
    inserted    integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    unchanged   integer NOT NULL DEFAULT 0,
    rejected    integer NOT NULL DEFAULT 0,
    first_day   date,
    last_day    date,
    -- The first row errors, for the load history.
    errors      jsonb NOT NULL DEFAULT '[]',
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX io_ingest_load_recent ON io_ingest_load (org_id, loaded_at DESC);

ALTER TABLE io_org ADD COLUMN data_version bigint NOT NULL DEFAULT 0;

ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed',
    'job_retried', 'job_cancelled',
    'token_created', 'token_revoked'
));
