-- Reports and exports: report templates (a saved dashboard view with a format and a schedule), the
-- reports generated from them with their files, the PII flag of the catalogue, and the job kind
-- and audit actions they add.

ALTER TABLE io_metric ADD COLUMN pii boolean NOT NULL DEFAULT false;

CREATE TABLE io_report_template (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    owner_id     uuid REFERENCES io_user (id) ON DELETE SET NULL,
    owner_email  text NOT NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    -- The dashboard URL's query string (metric, range, filters), validated by the application.
    query        text NOT NULL CHECK (length(query) <= 4000),
    grain        text NOT NULL DEFAULT 'day' CHECK (grain IN ('day', 'week', 'month')),
    format       text NOT NULL CHECK (format IN ('json', 'csv', 'pdf')),
    -- once | daily | weekly | monthly | a five-field cron expression (UTC).
    schedule     text NOT NULL CHECK (length(schedule) BETWEEN 1 AND 128),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    next_run_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
CREATE INDEX io_report_template_due ON io_report_template (next_run_at) WHERE status = 'active' AND next_run_at IS NOT NULL;
CREATE TRIGGER io_report_template_touch BEFORE UPDATE ON io_report_template FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

CREATE TABLE io_report (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    template_id   uuid NOT NULL REFERENCES io_report_template (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'generating', 'ready', 'failed')),
    trigger       text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    requested_by  text NOT NULL,
    job_id        uuid,
    attempts      integer NOT NULL DEFAULT 0,
    row_count     bigint,
    size_bytes    bigint,
    duration_ms   bigint,
    error         text,
    file_name     text,
    content_type  text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    -- A ready report has its file; nothing else does.
    CHECK ((status = 'ready') = (size_bytes IS NOT NULL))
);
CREATE INDEX io_report_history ON io_report (org_id, template_id, created_at DESC);

-- Files are kept apart from the rows the history lists, so listing never reads them.
CREATE TABLE io_report_file (
    report_id  uuid PRIMARY KEY REFERENCES io_report (id) ON DELETE CASCADE,
    content    bytea NOT NULL
);

ALTER TABLE io_job DROP CONSTRAINT io_job_kind_check;
ALTER TABLE io_job ADD CONSTRAINT io_job_kind_check CHECK (kind IN (
    'detect', 'model_run', 'pattern_review', 'retention', 'cache_warmup', 'noop',
    'collection_week', 'weekly_collections', 'report'
));

ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed',
    'job_retried', 'job_cancelled',
    'token_created', 'token_revoked',
    'collection_created', 'collection_paused', 'collection_resumed', 'collection_rerun', 'collection_week_retried',
    'report_template_created', 'report_template_updated', 'report_template_deleted', 'report_requested', 'data_exported'
));
