// Reads expected numbers straight from PostgreSQL with psql, so the tests compare the page with
// the database rather than with numbers written into the test.
import { execFileSync } from 'node:child_process';

export function sql(query: string): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL must point at the database the server uses');
  return execFileSync('psql', [url, '-tA', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

/** Sum of a summed metric over the last `days` days of data for an org. */
export function summedMetric(org: string, metric: string, days: number): number {
  return Number(
    sql(`WITH o AS (SELECT id FROM io_org WHERE slug = '${org}'),
              last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT sum(value) FROM io_kpi_daily, last
         WHERE org_id = (SELECT id FROM o) AND metric_key = '${metric}'
           AND kpi_date > last.d - ${days} AND kpi_date <= last.d`),
  );
}

export function metricCount(org: string): number {
  return Number(
    sql(`SELECT count(*) FROM io_metric m JOIN io_org o ON o.id = m.org_id
         WHERE o.slug = '${org}' AND m.kind = 'kpi'`),
  );
}
