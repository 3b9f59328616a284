// Reports end to end: a manager saves the dashboard view they see as a report template, generates
// it now, watches its status reach "ready" without reloading, downloads the file and opens it; the
// dashboard's CSV export and the board page's PDF pack download. The page fits a phone.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import * as fs from 'node:fs';
import { signIn } from './login';

test.use({ storageState: { cookies: [], origins: [] } });

test('a manager saves a dashboard view as a report, generates it and downloads the file', async ({ page }) => {
  await page.goto('/login?next=%2Fdashboard%3Fmetric%3Drevenue%26range%3D30d%26region%3DEMEA');
  await signIn(page, 'manager');
  await expect(page.getByTestId('as-of')).toBeVisible();
  await page.waitForLoadState('networkidle');

  // The CSV of the view as shown.
  const csvDownload = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const csv = fs.readFileSync(await (await csvDownload).path(), 'utf8');
  expect(csv).toContain('# view: metric=revenue&range=30d&region=EMEA');
  expect(csv).toContain('period_start,period_end,metric,region,segment,channel,product,source,value');
  expect(csv.split('\n').filter((l) => l.includes(',revenue,EMEA,')).length).toBeGreaterThan(29);

  await page.getByTestId('save-as-report').click();
  await expect(page.getByRole('heading', { name: 'Reports', level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
  const name = `EMEA revenue ${Date.now()}`;
  await expect(page.getByLabel('Dashboard view')).toHaveValue('metric=revenue&range=30d&region=EMEA');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Schedule').fill('weekly');
  await page.getByRole('button', { name: 'Save template' }).click();
  await expect(page.getByTestId('template-message')).toHaveText('Template saved.');

  const row = page.getByTestId('report-templates').locator(`tr[data-template="${name}"]`);
  await expect(row).toContainText('weekly');
  await row.getByRole('button', { name: `Generate now ${name}` }).click();
  await expect(page.getByTestId('generate-message')).toContainText('Report queued');
  const report = page.getByTestId('report-history').locator(`tr[data-template="${name}"]`).first();
  // No reload: the page polls until the worker has made the file.
  await expect(report).toHaveAttribute('data-report-status', 'ready', { timeout: 30_000 });
  const download = page.waitForEvent('download');
  await report.getByTestId('report-download').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^emea-revenue-\d+-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const body = fs.readFileSync(await file.path(), 'utf8');
  expect(body).toContain('# org: Acme Retail');
  expect(body).toContain(',revenue,EMEA,');

  const axe = await new AxeBuilder({ page }).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('a board member downloads the PDF board pack of the period shown', async ({ page }) => {
  await page.goto('/login?next=%2Fexec');
  await signIn(page, 'board');
  await expect(page.getByTestId('board-pack')).toBeVisible();
  await page.waitForLoadState('networkidle');
  const download = page.waitForEvent('download');
  await page.getByTestId('board-pack').click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^board-pack-acme-retail-\d{4}-\d{2}-01\.pdf$/);
  const bytes = fs.readFileSync(await file.path());
  expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
  expect(bytes.length).toBeGreaterThan(10_000);
});
