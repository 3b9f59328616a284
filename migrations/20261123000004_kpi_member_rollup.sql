-- Per-dimension member totals: "revenue by product, all else open" reads one row per product and day
-- instead of every fact row. The board page's driver breakdowns and the dashboard's top level use it.
CREATE TABLE io_kpi_member_daily (
    org_id     uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    metric_key text NOT NULL,
    kpi_date   date NOT NULL,
    dimension  text NOT NULL CHECK (dimension IN ('region', 'segment', 'channel', 'product')),
    -- NULL: fact rows without a value in this dimension, kept so the members add up to the total.
    member     text,
    value_sum  float8 NOT NULL,
    cell_count integer NOT NULL CHECK (cell_count > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, metric_key) REFERENCES io_metric (org_id, key) ON UPDATE CASCADE,
    CONSTRAINT io_kpi_member_daily_key UNIQUE NULLS NOT DISTINCT (org_id, metric_key, dimension, kpi_date, member)
);
-- Index-only reads of one metric, one dimension, a date range.
CREATE INDEX io_kpi_member_daily_read
    ON io_kpi_member_daily (org_id, metric_key, dimension, kpi_date) INCLUDE (member, value_sum, cell_count);
CREATE TRIGGER io_kpi_member_daily_touch BEFORE UPDATE ON io_kpi_member_daily
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

INSERT INTO io_kpi_member_daily (org_id, metric_key, kpi_date, dimension, member, value_sum, cell_count)
SELECT org_id, metric_key, kpi_date, 'product', product, sum(value)::float8, count(*) FROM io_kpi_daily GROUP BY 1, 2, 3, 5;
INSERT INTO io_kpi_member_daily (org_id, metric_key, kpi_date, dimension, member, value_sum, cell_count)
SELECT org_id, metric_key, kpi_date, d.dimension, d.member, sum(value_sum), sum(cell_count)
FROM io_kpi_cube_daily
CROSS JOIN LATERAL (VALUES ('region', region), ('segment', segment), ('channel', channel)) AS d (dimension, member)
GROUP BY 1, 2, 3, 4, 5;
