-- Background work: a durable job queue, the slots of scheduled jobs, and recurring patterns found
-- by the pattern reviews.

CREATE TABLE io_job (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('detect', 'model_run', 'pattern_review', 'retention', 'cache_warmup', 'noop')),
    -- NULL for work that spans every org (retention, cache warm-up).
    org_id        uuid REFERENCES io_org (id) ON DELETE CASCADE,
    payload       jsonb NOT NULL DEFAULT '{}',
    -- Higher runs first.
    priority      smallint NOT NULL DEFAULT 0,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    run_at        timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 5 CHECK (max_attempts BETWEEN 1 AND 100),
    -- A running job belongs to `worker` until `lease_until`; its heartbeat extends the lease.
    worker        text,
    lease_until   timestamptz,
    -- At most one queued or running job per key (see io_job_dedupe).
    dedupe_key    text,
    -- New work arrived for this key while it ran: run it again once it finishes.
    rerun         boolean NOT NULL DEFAULT false,
    last_error    text,
    -- What the job reports while it runs and when it ends (counts, the model run it made, ...).
    progress      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CHECK (status <> 'running' OR (worker IS NOT NULL AND lease_until IS NOT NULL))
);
CREATE UNIQUE INDEX io_job_dedupe ON io_job (dedupe_key) WHERE status IN ('queued', 'running');
CREATE INDEX io_job_ready ON io_job (priority DESC, run_at) WHERE status = 'queued';
CREATE INDEX io_job_lease ON io_job (lease_until) WHERE status = 'running';
CREATE INDEX io_job_org ON io_job (org_id, created_at DESC);
CREATE INDEX io_job_finished ON io_job (finished_at) WHERE status IN ('succeeded', 'failed', 'cancelled');

-- One row per schedule and slot: the instance whose insert wins enqueues that slot's job, so a
-- slot runs once however many schedulers tick.
CREATE TABLE io_schedule_slot (
    schedule  text NOT NULL,
    slot_at   timestamptz NOT NULL,
    job_id    uuid REFERENCES io_job (id) ON DELETE SET NULL,
    PRIMARY KEY (schedule, slot_at)
);

-- Recurring patterns: enough anomalies of one metric, from enough sources, inside a review window.
CREATE TABLE io_pattern (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    window_kind  text NOT NULL CHECK (window_kind IN ('weekly', 'monthly', 'yearly')),
    metric_key   text NOT NULL,
    -- Metric and slice of each event ("revenue", "revenue region=EMEA"), sorted and distinct.
    sources      text[] NOT NULL,
    names_slices boolean NOT NULL,
    first_day    date NOT NULL,
    last_day     date NOT NULL,
    events       integer NOT NULL,
    window_start date NOT NULL,
    window_end   date NOT NULL,
    found_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, window_kind, metric_key, window_end)
);
CREATE INDEX io_pattern_recent ON io_pattern (org_id, metric_key, window_end DESC);

ALTER TABLE io_audit_event DROP CONSTRAINT io_audit_event_action_check;
ALTER TABLE io_audit_event ADD CONSTRAINT io_audit_event_action_check CHECK (action IN (
    'login', 'login_failed', 'login_throttled', 'logout', 'user_created', 'role_changed', 'password_reset',
    'recommendation_accepted', 'recommendation_dismissed', 'recommendation_reopened',
    'model_registered', 'model_activated', 'model_deprecated', 'model_executed',
    'job_retried', 'job_cancelled'
));

-- A model runs once at a time; a run left `running` by a worker that died is failed by the next
-- run of that model or by a worker's periodic sweep once it is older than the run time limit.
UPDATE io_model_execution SET status = 'failed', error = 'left running by an earlier version', finished_at = now()
WHERE status = 'running';
CREATE UNIQUE INDEX io_model_execution_one_running ON io_model_execution (model_id) WHERE status = 'running';
