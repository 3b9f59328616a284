-- The ingest fast path (issue 13's benchmark). Measured with EXPLAIN (ANALYZE) on a million-row
-- load (README, "Ingest throughput"):
-- 1. The derived tables (daily rollups, period aggregates) lose their foreign keys: they are
--    rebuilt from the facts, which keep theirs, and the per-row checks cost ~8 s per million
--    rollup rows ("Trigger for constraint ..._fkey: calls=1000000"). The two cascades those keys
--    gave (an org deleted, a metric key renamed) are kept by triggers on the parents, which fire
--    only when a parent row changes, never on a load.
-- 2. The facts get a sequential bigint id instead of a random UUID (nothing reads it): random keys
--    scatter every insert across the whole primary-key index (~7 s of a million-row load).

ALTER TABLE io_kpi_cube_daily DROP CONSTRAINT io_kpi_cube_daily_org_id_fkey;
ALTER TABLE io_kpi_cube_daily DROP CONSTRAINT io_kpi_cube_daily_org_id_metric_key_fkey;
ALTER TABLE io_kpi_total_daily DROP CONSTRAINT io_kpi_total_daily_org_id_fkey;
ALTER TABLE io_kpi_total_daily DROP CONSTRAINT io_kpi_total_daily_org_id_metric_key_fkey;
ALTER TABLE io_kpi_member_daily DROP CONSTRAINT io_kpi_member_daily_org_id_fkey;
ALTER TABLE io_kpi_member_daily DROP CONSTRAINT io_kpi_member_daily_org_id_metric_key_fkey;

CREATE FUNCTION io_delete_derived_of_org() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM io_kpi_cube_daily WHERE org_id = OLD.id;
    DELETE FROM io_kpi_total_daily WHERE org_id = OLD.id;
    DELETE FROM io_kpi_member_daily WHERE org_id = OLD.id;
    DELETE FROM io_kpi_period WHERE org_id = OLD.id;
    RETURN OLD;
END $$;
CREATE TRIGGER io_org_delete_derived AFTER DELETE ON io_org
    FOR EACH ROW EXECUTE FUNCTION io_delete_derived_of_org();

CREATE FUNCTION io_rename_derived_metric() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE io_kpi_cube_daily SET metric_key = NEW.key WHERE org_id = NEW.org_id AND metric_key = OLD.key;
    UPDATE io_kpi_total_daily SET metric_key = NEW.key WHERE org_id = NEW.org_id AND metric_key = OLD.key;
    UPDATE io_kpi_member_daily SET metric_key = NEW.key WHERE org_id = NEW.org_id AND metric_key = OLD.key;
    UPDATE io_kpi_period SET metric_key = NEW.key WHERE org_id = NEW.org_id AND metric_key = OLD.key;
    RETURN NEW;
END $$;
CREATE TRIGGER io_metric_rename_derived AFTER UPDATE OF key ON io_metric
    FOR EACH ROW WHEN (OLD.key IS DISTINCT FROM NEW.key) EXECUTE FUNCTION io_rename_derived_metric();

ALTER TABLE io_kpi_daily DROP CONSTRAINT io_kpi_daily_pkey;
ALTER TABLE io_kpi_daily DROP COLUMN id;
ALTER TABLE io_kpi_daily ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
ALTER TABLE io_engagement_signal_daily DROP CONSTRAINT io_engagement_signal_daily_pkey;
ALTER TABLE io_engagement_signal_daily DROP COLUMN id;
ALTER TABLE io_engagement_signal_daily ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
