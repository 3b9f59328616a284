-- Pre-aggregated KPI facts so dashboards stay fast at tens of millions of rows. Products are the
-- high-cardinality dimension, so the cube drops it; the totals table drops every dimension.
-- value_sum and cell_count keep both rules exact: sum = Σ value_sum, avg = Σ value_sum / Σ cell_count.
-- Loaders refresh an org's rows in the transaction that changes its facts (db::kpi::refresh_rollups).
CREATE TABLE io_kpi_cube_daily (
    org_id     uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    metric_key text NOT NULL,
    kpi_date   date NOT NULL,
    region     text,
    segment    text,
    channel    text,
    value_sum  float8 NOT NULL,
    cell_count integer NOT NULL CHECK (cell_count > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, metric_key) REFERENCES io_metric (org_id, key) ON UPDATE CASCADE,
    CONSTRAINT io_kpi_cube_daily_key UNIQUE NULLS NOT DISTINCT (org_id, metric_key, kpi_date, region, segment, channel)
);
CREATE INDEX io_kpi_cube_daily_read
    ON io_kpi_cube_daily (org_id, metric_key, kpi_date) INCLUDE (region, segment, channel, value_sum, cell_count);

CREATE TABLE io_kpi_total_daily (
    org_id     uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    metric_key text NOT NULL,
    kpi_date   date NOT NULL,
    value_sum  float8 NOT NULL,
    cell_count integer NOT NULL CHECK (cell_count > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, metric_key) REFERENCES io_metric (org_id, key) ON UPDATE CASCADE,
    PRIMARY KEY (org_id, kpi_date, metric_key)
);

CREATE TRIGGER io_kpi_cube_daily_touch BEFORE UPDATE ON io_kpi_cube_daily
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();
CREATE TRIGGER io_kpi_total_daily_touch BEFORE UPDATE ON io_kpi_total_daily
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

-- Bring existing data in.
INSERT INTO io_kpi_cube_daily (org_id, metric_key, kpi_date, region, segment, channel, value_sum, cell_count)
SELECT org_id, metric_key, kpi_date, region, segment, channel, sum(value)::float8, count(*)
FROM io_kpi_daily GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO io_kpi_total_daily (org_id, metric_key, kpi_date, value_sum, cell_count)
SELECT org_id, metric_key, kpi_date, sum(value)::float8, count(*)
FROM io_kpi_daily GROUP BY 1, 2, 3;
