-- Core model: orgs, users, the metric catalogue, daily KPIs and engagement signals, executive summaries.
-- Statuses and roles are TEXT with CHECK constraints; every table has a UUID key and touch timestamps.

CREATE FUNCTION io_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE TABLE io_org (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE io_user (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    email         text NOT NULL CHECK (position('@' IN email) > 1),
    display_name  text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'manager', 'board')),
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX io_user_email_key ON io_user (lower(email));
CREATE INDEX io_user_org ON io_user (org_id);

-- The catalogue says how each metric or signal is read: its unit, which way is good, how days combine.
CREATE TABLE io_metric (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    kind        text NOT NULL DEFAULT 'kpi' CHECK (kind IN ('kpi', 'signal')),
    label       text NOT NULL,
    unit        text NOT NULL,
    direction   text NOT NULL CHECK (direction IN ('higher_is_better', 'lower_is_better')),
    aggregation text NOT NULL CHECK (aggregation IN ('sum', 'avg', 'last')),
    description text NOT NULL DEFAULT '',
    sort_order  integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, key)
);

CREATE TABLE io_kpi_daily (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    kpi_date    date NOT NULL,
    metric_key  text NOT NULL,
    value       numeric NOT NULL CHECK (value <> 'NaN'),
    unit        text,
    region      text,
    segment     text,
    channel     text,
    product     text,
    source      text NOT NULL DEFAULT 'manual',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, metric_key) REFERENCES io_metric (org_id, key) ON UPDATE CASCADE,
    -- NULL dimensions mean "not split"; NULLS NOT DISTINCT makes re-loading the same row a conflict.
    CONSTRAINT io_kpi_daily_natural_key UNIQUE NULLS NOT DISTINCT
        (org_id, metric_key, kpi_date, region, segment, channel, product, source)
);
-- Dashboard windows read every metric of one org over a date range: index-only with the value included.
CREATE INDEX io_kpi_daily_org_date ON io_kpi_daily (org_id, kpi_date) INCLUDE (metric_key, value);

CREATE TABLE io_engagement_signal_daily (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    signal_date date NOT NULL,
    signal_key  text NOT NULL,
    value       numeric NOT NULL CHECK (value <> 'NaN'),
    unit        text,
    region      text,
    segment     text,
    channel     text,
    product     text,
    source      text NOT NULL DEFAULT 'manual',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, signal_key) REFERENCES io_metric (org_id, key) ON UPDATE CASCADE,
    CONSTRAINT io_engagement_signal_daily_natural_key UNIQUE NULLS NOT DISTINCT
        (org_id, signal_key, signal_date, region, segment, channel, product, source)
);
CREATE INDEX io_engagement_signal_daily_org_date
    ON io_engagement_signal_daily (org_id, signal_date) INCLUDE (signal_key, value);

CREATE TABLE io_exec_summary (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    audience      text NOT NULL CHECK (audience IN ('manager', 'board')),
    period_start  date NOT NULL,
    period_end    date NOT NULL,
    body          text NOT NULL,
    model_name    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (period_end >= period_start)
);
CREATE INDEX io_exec_summary_org_period ON io_exec_summary (org_id, audience, period_end DESC);

CREATE TRIGGER io_org_touch BEFORE UPDATE ON io_org
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_user_touch BEFORE UPDATE ON io_user
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_metric_touch BEFORE UPDATE ON io_metric
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_kpi_daily_touch BEFORE UPDATE ON io_kpi_daily
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_engagement_signal_daily_touch BEFORE UPDATE ON io_engagement_signal_daily
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_exec_summary_touch BEFORE UPDATE ON io_exec_summary
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
