-- Sign-in and access control: sessions, the audit log, metric visibility, and session voiding.
-- io_session has the shape tower-sessions' Postgres store reads and writes.

CREATE TABLE io_session (
    id          text PRIMARY KEY,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX io_session_expiry ON io_session (expiry_date);

-- A password reset moves this forward; sessions that began before it are refused.
ALTER TABLE io_user ADD COLUMN sessions_valid_after timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00';

ALTER TABLE io_metric ADD COLUMN visibility text NOT NULL DEFAULT 'INTERNAL'
    CHECK (visibility IN ('PUBLIC', 'INTERNAL', 'RESTRICTED', 'ANONYMISED'));

CREATE TABLE io_audit_event (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL for sign-in attempts on an email no org has.
    org_id        uuid REFERENCES io_org (id) ON DELETE CASCADE,
    actor_user_id uuid REFERENCES io_user (id) ON DELETE SET NULL,
    -- The email as typed, or 'cli' for operator commands.
    actor         text NOT NULL,
    action        text NOT NULL CHECK (action IN (
        'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset'
    )),
    target        text NOT NULL DEFAULT '',
    detail        jsonb NOT NULL DEFAULT '{}',
    ip            text,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX io_audit_event_org_at ON io_audit_event (org_id, at DESC);
-- The throttle counts recent failures on every sign-in.
CREATE INDEX io_audit_event_login_failures ON io_audit_event (at) WHERE action = 'login_failed';
