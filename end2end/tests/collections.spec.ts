// A backfill collection end to end: an admin points a collection at a folder of weekly CSV files,
// follows its weeks live until they settle, sees the bad week fail with its line, fixes the file,
// retries that week alone, and finds the loaded numbers in the database. The page fits a phone.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { signIn } from './login';
import { sql } from './db';

test.use({ storageState: { cookies: [], origins: [] } });

const org = `(SELECT id FROM io_org WHERE slug = 'acme')`;
// The server runs from the project root with the default `[ingest] collections_dir`.
const collectionsDir = path.resolve(__dirname, '../../data/collections');
// Weeks long before the demo data, so no other test sees them.
const weeks = ['2019-01-07', '2019-01-14', '2019-01-21'];

function weekCsv(monday: string, bad: boolean): string {
  const rows = ['date,metric,value,region,source'];
  const start = new Date(`${monday}T00:00:00Z`);
  for (let d = 0; d < 7; d++) {
    const date = new Date(start.getTime() + d * 86_400_000).toISOString().slice(0, 10);
    rows.push(`${date},revenue,${bad && d === 2 ? 'lots' : 100 + d},EMEA,e2e-collection`);
  }
  return rows.join('\n') + '\n';
}

test('an admin backfills weeks from a folder, follows them live and retries the bad one', async ({ page }) => {
  const folder = `e2e-${Date.now()}`;
  const dir = path.join(collectionsDir, folder);
  fs.mkdirSync(dir, { recursive: true });
  weeks.forEach((w, i) => fs.writeFileSync(path.join(dir, `${w}.csv`), weekCsv(w, i === 1)));
  const loaded = () => Number(sql(`SELECT count(*) FROM io_kpi_daily WHERE org_id = ${org} AND source = 'e2e-collection'`));

  await page.goto('/login?next=%2Fdata%2Fcollections');
  await signIn(page, 'admin');
  await expect(page.getByRole('heading', { name: 'Collections', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await page.getByLabel('Name').fill(`Backfill ${folder}`);
  await page.getByLabel('Folder or URL template').fill(folder);
  await page.getByLabel('First week (any day of it)').fill('2019-01-09');
  await page.getByLabel('Weeks (backfill)').fill('3');
  await page.getByRole('button', { name: 'Start collection' }).click();
  await expect(page.getByTestId('collection-message')).toContainText('created with 3 weeks');
  await page.getByRole('link', { name: 'Follow it' }).click();

  // The page refreshes itself until no week waits: two weeks load, the bad one fails.
  const weekRow = (w: string) => page.getByTestId('collection-weeks').locator(`tr[data-week="${w}"]`);
  await expect(weekRow(weeks[1]).getByTestId('week-status')).toHaveText('failed', { timeout: 30_000 });
  await expect(weekRow(weeks[0]).getByTestId('week-status')).toHaveText('completed');
  await expect(weekRow(weeks[2]).getByTestId('week-status')).toHaveText('completed');
  await expect(weekRow(weeks[1])).toContainText('row 3 (line 4) value');
  await expect(page.getByTestId('collection-progress')).toContainText('2 of 3 weeks done (66 %), status failed');
  expect(loaded()).toBe(14);

  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

  fs.writeFileSync(path.join(dir, `${weeks[1]}.csv`), weekCsv(weeks[1], false));
  await page.getByRole('button', { name: `Retry week of ${weeks[1]}` }).click();
  await expect(weekRow(weeks[1]).getByTestId('week-status')).toHaveText('completed', { timeout: 30_000 });
  await expect(page.getByTestId('collection-progress')).toContainText('3 of 3 weeks done (100 %), status completed');
  expect(loaded()).toBe(21);
  const attempts = sql(`SELECT string_agg(attempts::text, ',' ORDER BY week_start) FROM io_collection_week w JOIN io_collection c ON c.id = w.collection_id WHERE c.name = 'Backfill ${folder}'`);
  expect(attempts).toBe('1,2,1');

  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  fs.rmSync(dir, { recursive: true, force: true });
});
