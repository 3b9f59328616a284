// Saved dashboards in Chromium: one built from a template, a widget added, moved by keyboard and
// by drag, resized by its corner, saved and found where it was after a reload (and in
// PostgreSQL); shared with the board member, who opens it read-only; the public link without a
// session; axe on the editor and the view; the main pages on a 390 px phone with the menu button.
import { test, expect, type Page, type Locator } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { sql } from './db';
import { signIn } from './login';

const tile = (page: Page, title: string) => page.locator(`[data-testid="editor-tile"][data-title="${title}"]`);

async function cellOf(t: Locator) {
  const read = async (name: string) => Number(await t.getAttribute(`data-${name}`));
  return { x: await read('x'), y: await read('y'), w: await read('w'), h: await read('h') };
}

async function expectCell(t: Locator, cell: { x: number; y: number; w: number; h: number }) {
  for (const [name, value] of Object.entries(cell)) await expect(t).toHaveAttribute(`data-${name}`, String(value));
}

/** Presses the mouse on `from` and releases it `dx`, `dy` pixels away, moving in steps as a hand does. */
async function drag(page: Page, from: Locator, dx: number, dy: number) {
  const box = await from.boundingBox();
  if (!box) throw new Error('nothing to drag');
  const [x, y] = [box.x + Math.min(12, box.width / 2), box.y + box.height / 2];
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + dx, y + dy, { steps: 10 });
  await page.mouse.up();
}

/** Opens `path` and waits until the browser has taken the page over (the wasm has hydrated it). */
async function open(page: Page, path: string) {
  const response = await page.goto(path);
  await expect(page.locator('main[data-hydrated="true"]')).toHaveCount(1);
  return response;
}

const serious = async (page: Page) =>
  (await new AxeBuilder({ page }).analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);

test('build from a template, add a widget, move it by keyboard and drag, save, reload, share read-only', async ({ page, browser }) => {
  test.setTimeout(120_000);
  // Tall enough that a drag from the grid's bottom row to its top stays on the screen.
  await page.setViewportSize({ width: 1280, height: 1800 });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await open(page, '/dashboards');
  await page.getByTestId('template-sales-weekly').click();
  await expect(page).toHaveURL(/\/dashboards\/[0-9a-f-]{36}\/edit$/);
  const id = page.url().split('/').slice(-2)[0];
  await expect(page.getByTestId('editor-tile')).toHaveCount(6);

  // A metric card on NPS goes to the first free place, below the template's widgets.
  const form = page.getByTestId('widget-form');
  await form.getByRole('combobox', { name: 'Type', exact: true }).selectOption('metric_card');
  await form.getByRole('textbox', { name: 'Title' }).fill('NPS now');
  await form.getByRole('combobox', { name: 'Metric', exact: true }).selectOption('nps');
  await form.getByRole('button', { name: 'Add widget' }).click();
  await expect(page.getByTestId('editor-tile')).toHaveCount(7);
  const nps = tile(page, 'NPS now');
  const added = await cellOf(nps);
  expect(added).toEqual({ x: 0, y: 10, w: 4, h: 2 });

  // Keyboard: two steps right, one wider; the change is announced.
  await nps.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await expectCell(nps, { x: 2, y: 10, w: 5, h: 2 });
  await expect(page.getByTestId('editor-status')).toHaveText('NPS now: column 3, row 11, 5 wide, 2 tall');

  // Drag by the title bar three columns right and up onto the top row: the cards there move down.
  await page.evaluate(() => window.scrollTo(0, 0));
  const grid = await page.getByTestId('editor-grid').boundingBox();
  if (!grid) throw new Error('no grid');
  const column = (grid.width + 8) / 12;
  const row = 60 + 8;
  await drag(page, nps.getByTestId('tile-handle'), 3 * column, -10 * row);
  await expectCell(nps, { x: 5, y: 0, w: 5, h: 2 });
  const orders = await cellOf(tile(page, 'Orders'));
  expect(orders.y).toBeGreaterThanOrEqual(2);
  // And one row taller by its corner.
  await drag(page, nps.getByTestId('tile-resize'), 0, row);
  await expectCell(nps, { x: 5, y: 0, w: 5, h: 3 });
  // The buttons do the same for those who use neither.
  await nps.getByRole('button', { name: 'Move left: NPS now' }).click();
  await expectCell(nps, { x: 4, y: 0, w: 5, h: 3 });
  // Undo takes the last step back.
  await page.getByRole('button', { name: 'Undo' }).click();
  await expectCell(nps, { x: 5, y: 0, w: 5, h: 3 });

  expect(await serious(page)).toEqual([]);

  await page.getByTestId('save-dashboard').click();
  await expect(page.getByText('Saved, version 2')).toBeVisible();
  expect(sql(`SELECT pos_x || ',' || pos_y || ',' || width || ',' || height FROM io_dashboard_widget WHERE dashboard_id = '${id}' AND title = 'NPS now'`)).toBe('5,0,5,3');
  await page.reload();
  await expect(page.locator('main[data-hydrated="true"]')).toHaveCount(1);
  await expectCell(tile(page, 'NPS now'), { x: 5, y: 0, w: 5, h: 3 });

  // The view: the widget where it was, with the database's number.
  await page.goto(`/dashboards/${id}`);
  const card = page.locator('[data-testid="saved-widget"]', { has: page.getByRole('heading', { name: 'NPS now' }) });
  await expect(card).toHaveAttribute('data-x', '5');
  const shown = Number(await card.getByTestId('widget-value').getAttribute('data-raw'));
  const nps30 = Number(
    sql(`WITH o AS (SELECT id FROM io_org WHERE slug = 'acme'),
              last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT avg(value) FROM io_kpi_daily, last WHERE org_id = (SELECT id FROM o) AND metric_key = 'nps'
           AND kpi_date > last.d - 30 AND kpi_date <= last.d`),
  );
  expect(Number.isFinite(shown)).toBe(true);
  expect(Math.abs(shown - nps30) / Math.abs(nps30)).toBeLessThan(0.05);
  expect(await serious(page)).toEqual([]);

  // Share it with the board member for viewing.
  await open(page, `/dashboards/${id}/edit`);
  await page.getByLabel('Email of someone in your org').fill('board@acme.example');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(page.getByTestId('share-list')).toContainText('board@acme.example');

  // The board member finds it shared and opens it read-only.
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const board = await context.newPage();
  await board.goto(`/dashboards/${id}`);
  await signIn(board, 'board');
  await expect(board).toHaveURL(new RegExp(`/dashboards/${id}$`));
  await expect(board.getByTestId('saved-widget')).toHaveCount(7);
  await expect(board.getByTestId('edit-dashboard')).toHaveCount(0);
  await board.goto(`/dashboards/${id}/edit`);
  await expect(board.getByRole('alert')).toContainText('read-only for you');
  await board.goto('/dashboards');
  await expect(board.getByTestId('dashboard-list').first()).toContainText('Sales weekly');
  await expect(board.getByRole('button', { name: /New from/ })).toHaveCount(0);
  await context.close();
  expect(errors).toEqual([]);
});

test('filters apply to every widget, chips remove them, and the public link reads without a session', async ({ page, browser }) => {
  await open(page, '/dashboards');
  await page.getByTestId('template-board-monthly').click();
  await expect(page).toHaveURL(/\/edit$/);
  const id = page.url().split('/').slice(-2)[0];
  await open(page, `/dashboards/${id}`);
  const revenue = page.locator('[data-testid="saved-widget"]', { has: page.getByRole('heading', { name: 'Revenue', exact: true }) });
  const before = Number(await revenue.getByTestId('widget-value').getAttribute('data-raw'));

  // Region EMEA through the dropdown of checkboxes, by keyboard.
  const region = page.getByTestId('filter-region');
  await region.locator('summary').focus();
  await page.keyboard.press('Enter');
  await region.getByLabel('EMEA', { exact: true }).check();
  await page.keyboard.press('Escape');
  await expect(region).not.toHaveAttribute('open', '');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/region=EMEA/);
  const emea = Number(
    sql(`WITH o AS (SELECT id FROM io_org WHERE slug = 'acme'),
              last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily WHERE org_id = (SELECT id FROM o))
         SELECT sum(value) FROM io_kpi_daily, last WHERE org_id = (SELECT id FROM o) AND metric_key = 'revenue'
           AND region = 'EMEA' AND kpi_date > last.d - 90 AND kpi_date <= last.d`),
  );
  await expect(revenue.getByTestId('widget-value')).not.toHaveAttribute('data-raw', String(before));
  const filtered = Number(await revenue.getByTestId('widget-value').getAttribute('data-raw'));
  expect(Math.abs(filtered - emea)).toBeLessThan(0.01);
  await page.getByRole('link', { name: 'Remove filter Region: EMEA' }).click();
  await expect(page).not.toHaveURL(/region=/);
  await expect(revenue.getByTestId('widget-value')).toHaveAttribute('data-raw', String(before));

  // The public link: no session, the PUBLIC metric only, gone once revoked.
  await open(page, `/dashboards/${id}/edit`);
  await page.getByRole('button', { name: 'Create a public link' }).click();
  const path = (await page.getByTestId('public-link').getAttribute('href')) ?? '';
  expect(path).toMatch(/^\/public\/dashboards\/[0-9a-f]{64}$/);
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const stranger = await context.newPage();
  await stranger.goto(path);
  await expect(stranger).toHaveURL(path);
  await expect(stranger.getByTestId('saved-widget')).toHaveCount(5);
  await expect(stranger.getByTestId('widget-withheld')).toHaveCount(4);
  await expect(stranger.getByRole('heading', { name: 'NPS' })).toBeVisible();
  await page.getByRole('button', { name: 'Revoke the public link' }).click();
  await expect(page.getByRole('button', { name: 'Create a public link' })).toBeVisible();
  const gone = await stranger.goto(path);
  expect(gone?.status()).toBe(404);
  await context.close();
});

test('the main pages work on a 390 px phone: the menu button opens the navigation', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const id = sql(`SELECT d.id FROM io_dashboard d JOIN io_org o ON o.id = d.org_id WHERE o.slug = 'acme' ORDER BY d.created_at LIMIT 1`);
  for (const path of ['/', '/exec', '/dashboard?metric=revenue&range=30d', '/dashboards', `/dashboards/${id}`, `/dashboards/${id}/edit`, '/ask', '/recommendations', '/reports']) {
    await open(page, path);
    expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
    await expect(page.getByTestId('main-nav'), path).toBeHidden();
  }
  const menu = page.getByTestId('menu-button');
  await expect(menu).toHaveAttribute('aria-expanded', 'false');
  const size = await menu.boundingBox();
  expect(size?.height ?? 0).toBeGreaterThanOrEqual(44);
  await menu.click();
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  // The last item of the admin's menu is reachable and works.
  const last = page.getByTestId('main-nav').getByRole('link', { name: 'API tokens' });
  await last.scrollIntoViewIfNeeded();
  await expect(last).toBeInViewport();
  await last.click();
  await expect(page).toHaveURL(/\/admin\/tokens/);
  await expect(page.getByTestId('main-nav')).toBeHidden();
});
