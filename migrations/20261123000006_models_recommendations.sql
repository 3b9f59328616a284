-- The model registry (versions, schemas, config), model runs, recommendations and their history.
-- Every row belongs to an org; one version per model name may be active at a time.

CREATE TABLE io_analytical_model (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{1,62}$'),
    version       integer NOT NULL CHECK (version > 0),
    type          text NOT NULL CHECK (type IN ('rule_based', 'statistical', 'ml')),
    -- Which built-in implementation runs it.
    implementation text NOT NULL CHECK (implementation IN ('robust_anomaly', 'trend_break', 'forecast_risk', 'optimisation_rules')),
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'deprecated')),
    description   text NOT NULL DEFAULT '',
    input_schema  jsonb NOT NULL,
    output_schema jsonb NOT NULL,
    config        jsonb NOT NULL,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name, version)
);
CREATE UNIQUE INDEX io_analytical_model_one_active ON io_analytical_model (org_id, name) WHERE status = 'active';
CREATE TRIGGER io_analytical_model_touch BEFORE UPDATE ON io_analytical_model
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

CREATE TABLE io_model_execution (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    model_id       uuid NOT NULL REFERENCES io_analytical_model (id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('running', 'success', 'failed')),
    -- What it read (metrics, period) and what it wrote (recommendation counts).
    input_ref      jsonb NOT NULL DEFAULT '{}',
    output_ref     jsonb NOT NULL DEFAULT '{}',
    duration_ms    integer,
    error          text,
    triggered_by   text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX io_model_execution_model ON io_model_execution (org_id, model_id, started_at DESC);

CREATE TABLE io_recommendation (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    model_execution_id  uuid NOT NULL REFERENCES io_model_execution (id) ON DELETE CASCADE,
    model_name          text NOT NULL,
    -- Same model, metric, dimensions and period = same finding: raised once (see rules.rs).
    finding_key         text NOT NULL,
    metric_key          text NOT NULL,
    title               text NOT NULL,
    description         text NOT NULL,
    category            text NOT NULL CHECK (category IN ('anomaly', 'trend', 'optimisation', 'forecast')),
    severity            text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'dismissed')),
    -- |z| or relative size when raised or last decided; "materially worse" compares against it.
    magnitude           double precision NOT NULL,
    evidence            jsonb NOT NULL,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, finding_key)
);
CREATE INDEX io_recommendation_review ON io_recommendation (org_id, status, severity, created_at DESC);
CREATE TRIGGER io_recommendation_touch BEFORE UPDATE ON io_recommendation
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

CREATE TABLE io_recommendation_event (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    recommendation_id  uuid NOT NULL REFERENCES io_recommendation (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('created', 'accepted', 'dismissed', 'reopened', 'refreshed')),
    actor_user_id      uuid REFERENCES io_user (id) ON DELETE SET NULL,
    -- The admin's email, or the model run (`model:NAME vN`).
    actor              text NOT NULL,
    note               text NOT NULL DEFAULT '',
    at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX io_recommendation_event_item ON io_recommendation_event (recommendation_id, at);

ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed'
));
