-- Backfill and weekly collections (seed 001's report_data_collections / report_data_weeks): a
-- collection pulls one week of rows at a time from a CSV directory or an HTTP JSON source; each week
-- is one job and keeps the checksum of what it loaded, so an unchanged week is skipped.
-- Period aggregates (seed 001's report_data_aggregates): weekly, monthly and quarterly values per
-- org, metric and dimension slice, maintained for the touched periods by every load.

CREATE TABLE io_collection (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    collection_type     text NOT NULL CHECK (collection_type IN ('backfill', 'weekly_update')),
    target              text NOT NULL CHECK (target IN ('kpi', 'signal')),
    source_kind         text NOT NULL CHECK (source_kind IN ('csv_dir', 'http_json')),
    -- A directory under `[ingest] collections_dir`, or a URL template with {week_start} / {week_end}.
    source              text NOT NULL CHECK (length(source) BETWEEN 1 AND 2000),
    target_weeks        integer NOT NULL CHECK (target_weeks BETWEEN 0 AND 1040),
    start_date          date NOT NULL,
    end_date            date NOT NULL CHECK (end_date >= start_date),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'paused')),
    progress_percentage integer NOT NULL DEFAULT 0 CHECK (progress_percentage BETWEEN 0 AND 100),
    weeks_completed     integer NOT NULL DEFAULT 0 CHECK (weeks_completed >= 0),
    error_message       text,
    created_by          uuid REFERENCES io_user (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
CREATE INDEX io_collection_org ON io_collection (org_id, created_at DESC);
CREATE TRIGGER io_collection_touch BEFORE UPDATE ON io_collection
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

CREATE TABLE io_collection_week (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    collection_id  uuid NOT NULL REFERENCES io_collection (id) ON DELETE CASCADE,
    week_start     date NOT NULL CHECK (extract(isodow FROM week_start) = 1),
    week_end       date NOT NULL CHECK (week_end = week_start + 6),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped')),
    attempts       integer NOT NULL DEFAULT 0,
    row_count      integer,
    -- SHA-256 (hex) of the bytes last loaded for this week: the same bytes again are skipped.
    data_checksum  text,
    error_message  text,
    executed_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (collection_id, week_start)
);
CREATE TRIGGER io_collection_week_touch BEFORE UPDATE ON io_collection_week
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

-- value by the metric's rule over the days of the period present: sum of the day values, mean of
-- them (avg), or the last day's (last). A day's value of a slice is Σ value (sum, last) or
-- Σ value / n (avg), as on the dashboard. dimension 'total' has member '' (the whole org).
CREATE TABLE io_kpi_period (
    org_id       uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    metric_key   text NOT NULL,
    grain        text NOT NULL CHECK (grain IN ('week', 'month', 'quarter')),
    period_start date NOT NULL,
    dimension    text NOT NULL CHECK (dimension IN ('total', 'region', 'segment', 'channel', 'product')),
    -- '' for the total and for rows without a value in this dimension (NULL in the facts).
    member       text NOT NULL,
    value        float8 NOT NULL,
    days_present integer NOT NULL CHECK (days_present > 0),
    last_day     date NOT NULL,
    row_count    bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- No foreign keys: derived from the facts, which have them (see the next migration).
    PRIMARY KEY (org_id, grain, dimension, metric_key, period_start, member)
);

ALTER TABLE io_job DROP CONSTRAINT io_job_kind_check;
ALTER TABLE io_job ADD CONSTRAINT io_job_kind_check CHECK (kind IN (
    'detect', 'model_run', 'pattern_review', 'retention', 'cache_warmup', 'noop',
    'collection_week', 'weekly_collections'
));

ALTER TABLE io_ingest_load DROP CONSTRAINT io_ingest_load_channel_check;
ALTER TABLE io_ingest_load ADD CONSTRAINT io_ingest_load_channel_check CHECK (channel IN ('api', 'upload', 'collection'));

ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed',
    'job_retried', 'job_cancelled',
    'token_created', 'token_revoked',
    'collection_created', 'collection_paused', 'collection_resumed', 'collection_rerun', 'collection_week_retried'
));
