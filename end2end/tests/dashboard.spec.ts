// The manager dashboard: filters in the URL, drill-down by clicking chart elements (echarts
// 'click' through our wasm binding), breadcrumb navigation, totals checked against PostgreSQL.
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { sql } from './db';

/** Clicks the bar of `category` in the bar chart, at its pixel position as echarts reports it. */
async function clickBar(page: Page, category: string) {
  const canvasHost = page.locator('#chart-bar');
  await expect(canvasHost.locator('canvas')).toHaveCount(1);
  // The drawn chart must be the current one: its categories include the one to click.
  await expect
    .poll(() => canvasHost.evaluate((el, name) => {
      const chart = (window as any).echarts.getInstanceByDom(el);
      return Boolean(chart && chart.getOption().xAxis[0].data.includes(name));
    }, category))
    .toBe(true);
  // Mouse coordinates are viewport coordinates: bring the chart into view first.
  await canvasHost.scrollIntoViewIfNeeded();
  const point = await canvasHost.evaluate((el, name) => {
    const chart = (window as any).echarts.getInstanceByDom(el);
    const option = chart.getOption();
    const index = option.xAxis[0].data.indexOf(name);
    const datum = option.series[0].data[index];
    const value = typeof datum === 'object' ? datum.value : datum;
    // Half-way up the bar: inside it whatever the axis scale.
    const [x, y] = chart.convertToPixel({ seriesIndex: 0 }, [index, value / 2]);
    return { x, y, index };
  }, category);
  expect(point.index).toBeGreaterThanOrEqual(0);
  const box = await canvasHost.boundingBox();
  if (!box) throw new Error('bar chart has no box');
  // Hover first, as a person does: zrender picks its target on mouse move. A click that lands
  // while the chart is still settling is repeated, at most three times.
  const before = page.url();
  for (let attempt = 0; attempt < 3 && page.url() === before; attempt++) {
    await page.mouse.move(box.x + point.x - 2, box.y + point.y - 2);
    await page.mouse.move(box.x + point.x, box.y + point.y, { steps: 4 });
    await page.waitForTimeout(300);
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForURL((url) => url.toString() !== before, { timeout: 2000 }).catch(() => undefined);
  }
}

const rawNumbers = async (page: Page, selector: string) =>
  (await page.locator(selector).evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-raw')))));

test('filter, drill twice by clicking bars, check totals, climb back with the breadcrumb', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto('/dashboard?metric=revenue&range=30d');
  await expect(page.locator('#chart-bar canvas')).toHaveCount(1);

  // Filter: web and mobile channels only, through the form.
  const unfiltered = await page.getByTestId('total-value').getAttribute('data-raw');
  // The channel dropdown: a disclosure of checkboxes.
  const channel = page.getByTestId('filter-channel');
  await channel.locator('summary').click();
  await channel.getByLabel('web', { exact: true }).check();
  await channel.getByLabel('mobile', { exact: true }).check();
  await expect(channel.locator('summary')).toContainText('2 of 3');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/channel=mobile/);
  await expect(page).toHaveURL(/channel=web/);
  // The new numbers are in: the total drops by the partner channel's share.
  await expect(page.getByTestId('total-value')).not.toHaveAttribute('data-raw', unfiltered ?? '');
  await expect(page.locator('.breakdown-table tbody tr')).toHaveCount(3);

  await page.evaluate(() => ((window as any).__samePage = true));
  // The largest region first, then its largest segment: both clicked on the chart.
  const region = (await page.locator('.breakdown-table tbody tr').first().getAttribute('data-member')) ?? '';
  await clickBar(page, region);
  await expect(page).toHaveURL(new RegExp(`drill=${region}(&|$)`));
  await expect(page.getByTestId('breadcrumb')).toContainText(region);
  const segment = (await page.locator('.breakdown-table tbody tr').first().getAttribute('data-member')) ?? '';
  expect(['SMB', 'Enterprise']).toContain(segment);
  await clickBar(page, segment);
  await expect(page).toHaveURL(new RegExp(`drill=${region}%2C${segment}`));
  const crumbs = page.getByTestId('breadcrumb').locator('li');
  await expect(crumbs).toHaveText(['All regions', region, segment]);
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);

  // Channel level: the table's rows add up to the card, and the card matches PostgreSQL.
  await expect(page.locator('.breakdown-table tbody tr')).toHaveCount(2);
  const rows = await rawNumbers(page, '.breakdown-table [data-testid="row-value"]');
  const total = Number(await page.getByTestId('total-value').getAttribute('data-raw'));
  expect(Math.abs(rows.reduce((a, b) => a + b, 0) - total)).toBeLessThan(0.01);
  const expected = Number(
    sql(`WITH o AS (SELECT id FROM io_org WHERE slug = 'acme'),
              last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT sum(value) FROM io_kpi_daily, last WHERE org_id = (SELECT id FROM o) AND metric_key = 'revenue'
           AND kpi_date > last.d - 30 AND region = '${region}' AND segment = '${segment}' AND channel IN ('web', 'mobile')`),
  );
  expect(Math.abs(total - expected)).toBeLessThan(0.01);

  // The browser's back button climbs one level, forward returns.
  await page.goBack();
  await expect(crumbs).toHaveText(['All regions', region]);
  await page.goForward();
  await expect(crumbs).toHaveText(['All regions', region, segment]);

  // Back to the top with the breadcrumb; the channel filter is still there.
  await crumbs.first().getByRole('link').click();
  await expect(page).not.toHaveURL(/drill=/);
  await expect(page).toHaveURL(/channel=/);
  await expect(crumbs).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('drill to the daily detail: the rows add up to the card', async ({ page }) => {
  const [region, segment, channel, product] = ['EMEA', 'SMB', 'web', 'core'];
  await page.goto(`/dashboard?metric=orders&range=7d&drill=${region},${segment},${channel},${product}`);
  const cells = await rawNumbers(page, '[data-testid="detail-value"]');
  expect(cells).toHaveLength(7);
  const total = Number(await page.getByTestId('total-value').getAttribute('data-raw'));
  expect(Math.abs(cells.reduce((a, b) => a + b, 0) - total)).toBeLessThan(0.01);
});

test('malformed URLs explain themselves instead of failing', async ({ page }) => {
  for (const [url, message] of [
    ['/dashboard?from=2026-10-05&to=2026-10-01', 'before it starts'],
    ['/dashboard?region=Atlantis', 'Region "Atlantis" does not exist'],
    ['/dashboard?from=2026-02-30&to=2026-03-01', 'is not a date'],
  ]) {
    const response = await page.goto(url);
    expect(response?.status()).toBeLessThan(500);
    await expect(page.getByRole('alert')).toContainText(message);
  }
});

test('auto-refresh reloads the data in place every 30 seconds', async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto('/dashboard?metric=orders&range=7d&refresh=30s');
  await expect(page.locator('#chart-trend canvas')).toHaveCount(1);
  const first = await page.getByTestId('as-of').textContent();
  expect(first).toContain('loaded');
  await page.evaluate(() => ((window as any).__samePage = true));
  // The "loaded" time is the server's: a new one means the data was fetched again.
  await expect(page.getByTestId('as-of')).not.toHaveText(first ?? '', { timeout: 45_000 });
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
});

test('a range without data says so', async ({ page }) => {
  await page.goto('/dashboard?from=2001-01-01&to=2001-01-31');
  await expect(page.getByTestId('no-data')).toContainText('No data for this combination');
});

test('the dashboard has no serious accessibility violations', async ({ page }) => {
  await page.goto('/dashboard?metric=revenue&range=30d&vs=orders');
  await expect(page.locator('#chart-bar canvas')).toHaveCount(1);
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});
