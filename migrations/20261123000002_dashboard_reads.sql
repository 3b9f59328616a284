-- Dashboard reads: filter and drill queries select one metric of one org over a date range and group
-- by dimension values. These covering indexes make them index-only scans.
CREATE INDEX io_kpi_daily_metric_day
    ON io_kpi_daily (org_id, metric_key, kpi_date) INCLUDE (region, segment, channel, product, value);
CREATE INDEX io_engagement_signal_daily_metric_day
    ON io_engagement_signal_daily (org_id, signal_key, signal_date) INCLUDE (region, segment, channel, product, value);

-- The values each dimension takes per org, for filter pickers and URL validation, kept by whatever
-- loads facts (seed, ingest) so pages never scan the fact tables for DISTINCT.
CREATE TABLE io_dimension_value (
    org_id     uuid NOT NULL REFERENCES io_org (id) ON DELETE CASCADE,
    dimension  text NOT NULL CHECK (dimension IN ('region', 'segment', 'channel', 'product')),
    value      text NOT NULL CHECK (value <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, dimension, value)
);
CREATE TRIGGER io_dimension_value_touch BEFORE UPDATE ON io_dimension_value
    FOR EACH ROW EXECUTE FUNCTION io_touch_updated_at();

-- Bring existing data in.
INSERT INTO io_dimension_value (org_id, dimension, value)
SELECT DISTINCT org_id, d.dimension, d.value
FROM (SELECT org_id, region, segment, channel, product FROM io_kpi_daily
      UNION SELECT org_id, region, segment, channel, product FROM io_engagement_signal_daily) f
CROSS JOIN LATERAL (VALUES ('region', region), ('segment', segment), ('channel', channel), ('product', product)) AS d (dimension, value)
WHERE d.value IS NOT NULL AND d.value <> ''
ON CONFLICT DO NOTHING;
