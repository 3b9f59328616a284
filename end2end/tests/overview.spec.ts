// The executive overview on "/": server-rendered cards with database numbers, charts drawn after
// hydration, and a period switcher that refreshes the cards without reloading the page.
import { test, expect, type Page, type ConsoleMessage } from '@playwright/test';
import { metricCount, summedMetric } from './db';

function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

const digits = (text: string | null) => Number((text ?? '').replace(/[^0-9.]/g, ''));

test('the overview is server-rendered with the numbers from the database', async ({ request }) => {
  const response = await request.get('/');
  expect(response.status()).toBe(200);
  const html = await response.text();
  const orders30 = summedMetric('acme', 'orders', 30);
  expect(orders30).toBeGreaterThan(0);
  // The formatted value is in the HTML itself, before any script runs.
  expect(html).toContain(orders30.toLocaleString('en-US'));
  expect(html).toContain('Acme Retail');
});

test('cards show database values, charts draw, and the period switches in place', async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto('/');

  const cards = page.locator('.kpi-card');
  await expect(cards).toHaveCount(metricCount('acme'));

  const orders = page.locator('.kpi-card[data-metric="orders"] [data-testid="kpi-value"]');
  expect(digits(await orders.textContent())).toBe(summedMetric('acme', 'orders', 30));

  // Charts are drawn by the hydrated app: a canvas with real size inside every chart element.
  const canvas = page.locator('#chart-revenue canvas');
  await expect(canvas).toHaveCount(1);
  const size = await canvas.evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height }));
  expect(size.w).toBeGreaterThan(50);
  expect(size.h).toBeGreaterThan(50);
  await expect(page.locator('.chart-canvas canvas')).toHaveCount(metricCount('acme'));

  // A marker on window survives only if the page is not reloaded.
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByRole('link', { name: '7 days' }).click();
  await expect(page).toHaveURL(/\?period=7$/);
  await expect
    .poll(async () => digits(await orders.textContent()))
    .toBe(summedMetric('acme', 'orders', 7));
  await expect(page.getByRole('link', { name: '7 days' })).toHaveAttribute('aria-current', 'true');
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  await expect(page.locator('#chart-orders canvas')).toHaveCount(1);

  const sevenDayText = await orders.textContent();
  await page.getByRole('link', { name: '90 days' }).click();
  await expect(page).toHaveURL(/\?period=90$/);
  await expect(orders).not.toHaveText(sevenDayText ?? '');
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);

  expect(errors).toEqual([]);
});

test('every chart has a text summary and a data table', async ({ page }) => {
  await page.goto('/?period=7');
  const figure = page.locator('.kpi-card[data-metric="revenue"] figure');
  await expect(figure.locator('.chart-canvas')).toHaveAttribute('aria-label', /Revenue was \$/);
  await figure.locator('summary').click();
  await expect(figure.locator('tbody tr')).toHaveCount(7);
});

test('a bad period shows a clear message, not a server error', async ({ page }) => {
  const response = await page.goto('/?period=13');
  expect(response?.status()).toBeLessThan(500);
  await expect(page.getByRole('alert')).toContainText('period must be 7, 30 or 90 days');
});

test('health reports the database', async ({ request }) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  expect(await response.json()).toEqual({ status: 'ok', db: 'ok' });
});
