-- Saved dashboards (seed 001's dashboards, dashboard_widgets and dashboard_shares): widgets on a
-- 12-column grid, default filters as a dashboard URL query, templates, per-user shares and a public
-- read-only link. `version` rises with every save, so a stale save is refused (409), never merged.
CREATE TABLE io_dashboard (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    owner_id       uuid REFERENCES io_user (id) ON DELETE SET NULL,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description    text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    -- The default filters in the dashboard URL's own vocabulary (range, from, to, dimensions).
    default_query  text NOT NULL DEFAULT '' CHECK (length(default_query) <= 2000),
    refresh        text NOT NULL DEFAULT 'off' CHECK (refresh IN ('off', '30s', '5m')),
    is_template    boolean NOT NULL DEFAULT false,
    template_type  text CHECK (length(template_type) BETWEEN 1 AND 60),
    is_public      boolean NOT NULL DEFAULT false,
    -- 256 random bits, base64url; only meaningful while is_public.
    public_token   text UNIQUE CHECK (public_token IS NULL OR length(public_token) >= 40),
    version        integer NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT is_public OR public_token IS NOT NULL)
);
CREATE INDEX io_dashboard_org ON io_dashboard (org_id, name);
CREATE TRIGGER io_dashboard_touch BEFORE UPDATE ON io_dashboard
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

CREATE TABLE io_dashboard_widget (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    dashboard_id  uuid NOT NULL REFERENCES io_dashboard (id) ON DELETE CASCADE,
    widget_type   text NOT NULL CHECK (widget_type IN ('chart', 'table', 'metric_card', 'text')),
    chart_type    text CHECK (chart_type IN ('line', 'bar', 'pie', 'scatter', 'area')),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    -- The widget's query in the dashboard URL's vocabulary (metric, range, filters, drill, vs).
    query         text NOT NULL DEFAULT '' CHECK (length(query) <= 2000),
    -- A pinned widget keeps its own filters; the others take the dashboard's.
    pinned        boolean NOT NULL DEFAULT false,
    -- Markdown of a text widget.
    body          text NOT NULL DEFAULT '' CHECK (length(body) <= 10000),
    pos_x         integer NOT NULL CHECK (pos_x BETWEEN 0 AND 11),
    pos_y         integer NOT NULL CHECK (pos_y BETWEEN 0 AND 999),
    width         integer NOT NULL CHECK (width BETWEEN 1 AND 12),
    height        integer NOT NULL CHECK (height BETWEEN 1 AND 12),
    sort_order    integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (pos_x + width <= 12),
    CHECK ((widget_type = 'chart') = (chart_type IS NOT NULL))
);
CREATE INDEX io_dashboard_widget_dashboard ON io_dashboard_widget (dashboard_id, sort_order);

CREATE TABLE io_dashboard_share (
    dashboard_id  uuid NOT NULL REFERENCES io_dashboard (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES io_user (id) ON DELETE CASCADE,
    permission    text NOT NULL CHECK (permission IN ('view', 'edit')),
    granted_by    uuid REFERENCES io_user (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dashboard_id, user_id)
);
CREATE INDEX io_dashboard_share_user ON io_dashboard_share (user_id);

-- Sharing, the public link and deletion are audited.
ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed',
    'job_retried', 'job_cancelled',
    'token_created', 'token_revoked',
    'collection_created', 'collection_paused', 'collection_resumed', 'collection_rerun', 'collection_week_retried',
    'report_template_created', 'report_template_updated', 'report_template_deleted', 'report_requested', 'data_exported',
    'dashboard_shared', 'dashboard_unshared', 'dashboard_published', 'dashboard_unpublished', 'dashboard_deleted'
));
