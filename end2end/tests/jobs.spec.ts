// Jobs that run by themselves: a new day of data arrives (the seed loader, as a nightly load would),
// detection runs on the job queue without anyone pressing "Run now", and its finding shows in the
// review queue; the jobs page lists the run and the schedules.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { signIn } from './login';
import { sql } from './db';

test.use({ storageState: { cookies: [], origins: [] } });

function insightops(args: string[]): string {
  const bin = `${process.env.CARGO_TARGET_DIR}/debug/insightops`;
  return execFileSync(bin, args, { encoding: 'utf8', env: process.env });
}

test('a new day with a spike is detected by itself and seen in the browser', async ({ page }) => {
  test.setTimeout(120_000);
  const org = `(SELECT id FROM io_org WHERE slug = 'globex')`;
  const last = sql(`SELECT max(kpi_date) FROM io_kpi_daily WHERE org_id = ${org}`);
  const next = sql(`SELECT ('${last}'::date + 1)::text`);
  // One slice of tomorrow's revenue comes in far above its level, from another source...
  sql(`INSERT INTO io_kpi_daily (org_id, kpi_date, metric_key, value, region, segment, channel, product, source)
       SELECT org_id, '${next}', metric_key, value * 8, region, segment, channel, product, 'e2e-spike'
       FROM io_kpi_daily WHERE org_id = ${org} AND kpi_date = '${last}' AND metric_key = 'revenue'
         AND region = (SELECT min(region) FROM io_kpi_daily WHERE org_id = ${org})`);
  // ...and the loader brings the rest of the day, which queues detection for the orgs it touched.
  const out = insightops(['seed', '--end-date', next, '--days', '1']);
  expect(out).toContain('globex: detection queued');

  // Nobody presses "Run now": the server's worker runs the models.
  await expect
    .poll(() => Number(sql(`SELECT count(*) FROM io_recommendation WHERE org_id = ${org} AND metric_key = 'revenue'
                            AND evidence->>'period_end' = '${next}'`)), { timeout: 60_000, intervals: [1000] })
    .toBeGreaterThan(0);
  await expect
    .poll(() => Number(sql(`SELECT count(*) FROM io_job WHERE kind = 'detect' AND status IN ('queued', 'running')`)), { timeout: 60_000, intervals: [1000] })
    .toBe(0);

  await page.goto('/login?next=%2Frecommendations%3Fstatus%3Dall%26metric%3Drevenue%26category%3Danomaly');
  await signIn(page, 'admin', 'globex');
  await expect(page).toHaveURL(/\/recommendations/);
  await expect(page.getByTestId('recommendation').filter({ hasText: next }).first()).toBeVisible();

  await page.goto('/admin/jobs?status=succeeded');
  const detect = page.getByTestId('jobs').locator('tr[data-kind="detect"]').first();
  await expect(detect).toContainText('Detection on new data');
  await expect(detect).toContainText('succeeded');
  await expect(page.getByTestId('schedules').locator('tr[data-schedule="pattern_review_weekly"]')).toContainText('0 3 * * 1');
});
