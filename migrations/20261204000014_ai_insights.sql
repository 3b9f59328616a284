-- Questions asked on /ask (seed 001's AI insights): the question, the answer as shown, its
-- confidence and intent, per user, with "was this useful" feedback.
CREATE TABLE io_ai_insight (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES io_user (id) ON DELETE CASCADE,
    question    text NOT NULL CHECK (length(question) BETWEEN 1 AND 300),
    intent      text CHECK (intent IN ('value', 'change', 'why', 'trend', 'forecast', 'compare', 'top', 'bottom', 'anomalies')),
    headline    text NOT NULL,
    response    jsonb NOT NULL,
    confidence  double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    useful      boolean,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX io_ai_insight_history ON io_ai_insight (org_id, user_id, created_at DESC);
