// Real data in by hand: a manager checks a CSV on /data (the first rows as read, every error with
// its line), loads it with the good rows only, sees the load in the history, and finds the new
// number on the dashboard. An admin creates an API token on /admin/tokens and a script uses it.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn } from './login';
import { sql } from './db';

test.use({ storageState: { cookies: [], origins: [] } });

const org = `(SELECT id FROM io_org WHERE slug = 'acme')`;

function csvFile(text: string) {
  return { name: 'revenue.csv', mimeType: 'text/csv', buffer: Buffer.from(text) };
}

test('a manager checks and loads a CSV and the dashboard shows the new number', async ({ page }) => {
  const day = sql(`SELECT (max(kpi_date) - 40)::text FROM io_kpi_daily WHERE org_id = ${org}`);
  const total = () => Number(sql(`SELECT value_sum FROM io_kpi_total_daily WHERE org_id = ${org} AND metric_key = 'revenue' AND kpi_date = '${day}'`));
  const before = total();

  await page.goto('/login?next=%2Fdata');
  await signIn(page, 'manager');
  await expect(page.getByRole('heading', { name: 'Load data' })).toBeVisible();
  await page.waitForLoadState('networkidle'); // the page's buttons work once it is hydrated
  const file = page.getByTestId('upload-file');
  await file.setInputFiles(csvFile(`date,metric,value,region,source\n${day},revenue,1000,EMEA,e2e-upload\n${day},revenue,lots,EMEA,e2e-upload-2\n`));
  await page.getByTestId('upload-check').click();
  await expect(page.getByTestId('upload-message')).toHaveText('Checked 2 rows: 1 can be loaded, 1 have errors. Nothing was written.');
  await expect(page.getByTestId('upload-preview')).toContainText(`${day}revenue1000EMEA`);
  const error = page.getByTestId('upload-errors').locator('tbody tr');
  await expect(error).toHaveCount(1);
  await expect(error).toContainText('3'); // the line in the file
  await expect(error).toContainText('not a number: lots');
  expect(total()).toBe(before);

  // All or nothing by default: the bad row stops the load.
  await page.getByTestId('upload-load').click();
  await expect(page.getByTestId('upload-message')).toContainText('Nothing was loaded: 1 of 2 rows have errors');
  expect(total()).toBe(before);

  await page.getByLabel('Skip bad rows (load the good ones)').check();
  await page.getByTestId('upload-load').click();
  await expect(page.getByTestId('upload-message')).toHaveText('Loaded 2 rows: 1 new, 0 updated, 0 unchanged, 1 rejected.');
  expect(total()).toBeCloseTo(before + 1000, 6);
  await expect(page.getByTestId('loads').locator('tbody tr').first()).toContainText('manager@acme.example');

  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);

  await page.goto(`/dashboard?metric=revenue&from=${day}&to=${day}`);
  await expect(page.getByTestId('total-value')).toHaveAttribute('data-raw', /.+/);
  const shown = Number(await page.getByTestId('total-value').getAttribute('data-raw'));
  expect(shown).toBeCloseTo(before + 1000, 2);
});

test('the upload and token pages fit a 390 px phone', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/login?next=%2Fdata');
  await signIn(page, 'admin');
  for (const path of ['/data', '/admin/tokens']) {
    await page.goto(path);
    await expect(page.locator('h1')).toBeVisible();
    expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
  }
});

test('an admin creates an API token and a script loads with it', async ({ page, request }) => {
  await page.goto('/login?next=%2Fadmin%2Ftokens');
  await signIn(page, 'admin');
  await expect(page.getByRole('heading', { name: 'API tokens' })).toBeVisible();
  await page.waitForLoadState('networkidle'); // the token is shown by the hydrated page
  await page.getByLabel('Name').fill('e2e-script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
  expect(token).toMatch(/^iot_[0-9a-f]{64}$/);
  await expect(page.getByTestId('tokens').locator('tr[data-token="e2e-script"]')).toContainText('live');

  const day = sql(`SELECT (max(kpi_date) - 50)::text FROM io_kpi_daily WHERE org_id = ${org}`);
  const reply = await request.post('/api/v1/kpis', {
    headers: { Authorization: `Bearer ${token}` },
    data: [{ date: day, metric: 'orders', value: 7, region: 'EMEA', source: 'e2e-script' }],
  });
  expect(reply.status()).toBe(200);
  expect(await reply.json()).toMatchObject({ written: true, inserted: 1, rejected: 0 });

  await page.getByRole('button', { name: 'Revoke e2e-script' }).click();
  await expect(page.getByTestId('tokens').locator('tr[data-token="e2e-script"]')).toContainText('revoked');
  const refused = await request.post('/api/v1/kpis', { headers: { Authorization: `Bearer ${token}` }, data: [] });
  expect(refused.status()).toBe(401);
});
