// The board page: cards for the last complete month against the database, "what changed"
// sentences that link to their charts, and an accessibility check.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { metricCount, sql } from './db';
import { signIn } from './login';

test('cards show the last complete month and what changed links to the charts', async ({ page }) => {
  await page.goto('/exec');
  await expect(page.locator('.kpi-card')).toHaveCount(metricCount('acme'));

  // The last complete month: the month before the one holding the last day, unless it ends on it.
  const month = sql(`WITH last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily k JOIN io_org o ON o.id = k.org_id WHERE o.slug = 'acme')
    SELECT to_char(CASE WHEN d = (date_trunc('month', d) + interval '1 month - 1 day')::date
                        THEN date_trunc('month', d) ELSE date_trunc('month', d) - interval '1 month' END, 'YYYY-MM') FROM last`);
  await expect(page.locator('h1')).toContainText(month);
  const orders = Number(
    sql(`SELECT sum(value) FROM io_kpi_daily k JOIN io_org o ON o.id = k.org_id
         WHERE o.slug = 'acme' AND metric_key = 'orders' AND to_char(kpi_date, 'YYYY-MM') = '${month}'`),
  );
  const shown = await page.locator('.kpi-card[data-metric="orders"] [data-testid="exec-value"]').textContent();
  expect(Number((shown ?? '').replace(/[^0-9.]/g, ''))).toBe(orders);
  await expect(page.locator('.kpi-card[data-metric="orders"] [data-testid="vs-last-year"]')).toContainText('%');

  const changed = page.getByTestId('what-changed').locator('li a');
  expect(await changed.count()).toBeGreaterThanOrEqual(3);
  await expect(changed.first()).toContainText(`in ${month}`);
  const href = await changed.first().getAttribute('href');
  expect(href).toMatch(/^\/dashboard\?metric=/);
  await changed.first().click();
  await expect(page).toHaveURL(/\/dashboard\?metric=/);
  await expect(page.locator('#chart-trend canvas')).toHaveCount(1);
});

test('quarter view and the period picker stay in the URL', async ({ page }) => {
  await page.goto('/exec?grain=quarter');
  await expect(page.locator('h1')).toContainText(/\d{4}-Q\d/);
  await page.getByRole('link', { name: 'Year' }).click();
  await expect(page).toHaveURL(/grain=year/);
  await expect(page.locator('h1')).toContainText(/Board summary · \d{4}$/);
});

test('the board page prints without navigation or pickers', async ({ page }) => {
  await page.goto('/exec');
  await page.emulateMedia({ media: 'print' });
  await expect(page.locator('header.topbar')).toBeHidden();
  await expect(page.locator('.period-switcher')).toBeHidden();
  await expect(page.locator('.filters')).toBeHidden();
  await expect(page.locator('.kpi-card').first()).toBeVisible();
  await expect(page.getByTestId('what-changed')).toBeVisible();
});

test('the board page has no serious accessibility violations', async ({ page }) => {
  await page.goto('/exec');
  await expect(page.locator('.kpi-card').first()).toBeVisible();
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('the narrative heads the board page, is stored once, and each sentence opens its chart', async ({ page, browser }) => {
  await page.goto('/exec');
  const narrative = page.getByTestId('narrative');
  await expect(narrative).toBeVisible();
  const month = (await page.locator('h1').textContent())?.replace('Board summary · ', '').trim() ?? '';
  await expect(page.getByTestId('narrative-headline')).toContainText(`${month}:`);
  expect(await narrative.locator('.narrative-paragraph').count()).toBeGreaterThanOrEqual(3);
  await expect(narrative.locator('.narrative-topic')).toContainText(['Performance']);
  const stored = () =>
    sql(`SELECT count(*) FROM io_exec_summary s JOIN io_org o ON o.id = s.org_id
         WHERE o.slug = 'acme' AND audience = 'board' AND grain = 'month' AND to_char(period_start, 'YYYY-MM') = '${month}'`);
  expect(stored()).toBe('1');
  // The facts list names each fact a sentence cites.
  await narrative.locator('summary', { hasText: 'Facts cited' }).click();
  await expect(narrative.locator('.narrative-facts li').first()).toBeVisible();

  // A board member sees the same stored text, without restricted metrics.
  // A context of its own, without the admin's cookies (the runner would otherwise copy them in).
  const board = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const boardPage = await board.newPage();
  await boardPage.goto('/login?next=/exec');
  await signIn(boardPage, 'board');
  await expect(boardPage.getByTestId('narrative-headline')).toHaveText((await page.getByTestId('narrative-headline').textContent()) ?? '');
  await expect(boardPage.getByTestId('narrative')).not.toContainText('Marketing spend');
  await board.close();
  expect(stored()).toBe('1');

  const sentence = narrative.locator('a.cited').first();
  await sentence.click();
  await expect(page).toHaveURL(/\/dashboard\?metric=/);
  await expect(page.locator('#chart-trend canvas')).toHaveCount(1);
  await expect(page.getByTestId('manager-summary')).toContainText('Last month in brief');
});
