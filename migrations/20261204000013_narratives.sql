-- Stored narratives (issue 18): one per org, audience, grain and period, written when the period
-- closes (the `narratives` schedule) or on its first view, with the facts it cites, so the board
-- can see exactly what it was shown for a past period even after the data was corrected.
ALTER TABLE io_exec_summary
    ADD COLUMN grain          text NOT NULL DEFAULT 'month' CHECK (grain IN ('month', 'quarter', 'year')),
    ADD COLUMN headline       text NOT NULL DEFAULT '',
    ADD COLUMN narrative      jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN facts          jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN writer         text NOT NULL DEFAULT 'deterministic' CHECK (writer IN ('deterministic', 'llm')),
    ADD COLUMN prompt_version text,
    ADD COLUMN trigger        text NOT NULL DEFAULT 'first_view' CHECK (trigger IN ('first_view', 'scheduled'));
CREATE UNIQUE INDEX io_exec_summary_period ON io_exec_summary (org_id, audience, grain, period_start);

ALTER TABLE io_job DROP CONSTRAINT io_job_kind_check;
ALTER TABLE io_job ADD CONSTRAINT io_job_kind_check CHECK (kind IN (
    'detect', 'model_run', 'pattern_review', 'retention', 'cache_warmup', 'noop',
    'collection_week', 'weekly_collections', 'report', 'narratives'
));
