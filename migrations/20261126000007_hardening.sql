-- Hardening: every metric a finding references (visibility is checked against all of them), and
-- sign-in attempts recorded before the password is checked (throttling per account and address).

-- A finding shows only when the viewer may see every metric it names; `names_slices` marks text
-- or evidence that names dimension values, which totals-only roles never see.
ALTER TABLE io_recommendation ADD COLUMN metric_keys text[] NOT NULL DEFAULT '{}';
ALTER TABLE io_recommendation ADD COLUMN names_slices boolean NOT NULL DEFAULT true;
-- Existing rows: their own metric, plus the secondary inputs their model's config names; a row
-- names slices unless it is about the total and says nothing of other slices. Fails closed.
UPDATE io_recommendation r SET
    metric_keys = ARRAY(
        SELECT DISTINCT k FROM unnest(ARRAY[r.metric_key] || ARRAY(
            SELECT m.config ->> key FROM io_model_execution e
            JOIN io_analytical_model m ON m.id = e.model_id
            CROSS JOIN unnest(ARRAY['cost_metric', 'outcome_metric']) AS key
            WHERE e.id = r.model_execution_id AND m.config ? key
        )) AS k
    ),
    names_slices = jsonb_array_length(COALESCE(r.evidence -> 'dimensions', '[]'::jsonb)) > 0
                   OR r.description LIKE '%Also unusual that day%';

-- One row per sign-in attempt that passed the throttle, written before the (slow) password check,
-- so parallel attempts all count. `succeeded` is set afterwards; an unfinished attempt counts as a failure.
CREATE TABLE io_login_attempt (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    ip         text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    succeeded  boolean NOT NULL DEFAULT false
);
CREATE INDEX io_login_attempt_pair ON io_login_attempt (lower(email), ip, at);
CREATE INDEX io_login_attempt_ip ON io_login_attempt (ip, at);
