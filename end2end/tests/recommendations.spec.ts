// The recommendation review queue: an admin dismisses one with a note and accepts another (shown at
// once, saved with history), a stale decision rolls back with the reason, the board reads only.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn } from './login';
import { sql } from './db';

const card = (page: import('@playwright/test').Page, id: string) => page.locator(`[data-testid="recommendation"][data-id="${id}"]`);
const openIds = () => sql(`SELECT r.id FROM io_recommendation r JOIN io_org o ON o.id = r.org_id
                           WHERE o.slug = 'acme' AND r.status = 'open'
                           ORDER BY CASE r.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, r.evidence->>'period_end' DESC, r.id`).split('\n').filter(Boolean);

test('an admin dismisses one with a note and accepts another; both are saved with their history', async ({ page }) => {
  await page.goto('/recommendations');
  const ids = openIds();
  expect(ids.length).toBeGreaterThanOrEqual(3);
  await expect(page.getByTestId('recommendation')).toHaveCount(ids.length);
  // Every item explains itself and has its evidence chart with a data table.
  const first = card(page, ids[0]);
  await expect(first.locator('.why')).not.toBeEmpty();
  await expect(first.locator('canvas')).toHaveCount(1);

  await first.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('decision-message')).toContainText('needs a note');
  await expect(first.getByTestId('status')).toHaveText('open');
  await first.getByLabel('Note').fill('Known payment outage, fixed the same day');
  await first.getByRole('button', { name: 'Dismiss' }).click();
  await expect(first.getByTestId('status')).toHaveText('dismissed');
  await expect(page.getByTestId('decision-message')).toContainText('1 recommendation(s) dismissed');

  const second = card(page, ids[1]);
  await second.getByRole('button', { name: 'Accept' }).click();
  await expect(second.getByTestId('status')).toHaveText('accepted');
  await expect(page.getByTestId('decision-message')).toContainText('accepted');

  expect(sql(`SELECT status FROM io_recommendation WHERE id = '${ids[0]}'`)).toBe('dismissed');
  expect(sql(`SELECT status FROM io_recommendation WHERE id = '${ids[1]}'`)).toBe('accepted');
  expect(sql(`SELECT note FROM io_recommendation_event WHERE recommendation_id = '${ids[0]}' AND kind = 'dismissed'`)).toBe('Known payment outage, fixed the same day');

  // The list updated without a reload; after one, the item's detail view shows its history.
  await page.goto('/recommendations?status=dismissed');
  await card(page, ids[0]).getByRole('heading').getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`id=${ids[0]}`));
  await expect(page.getByTestId('recommendation')).toHaveCount(1);
  await expect(page.locator('.rec-history')).toHaveAttribute('open', '');
  await expect(page.locator('.rec-history')).toContainText('dismissed by admin@acme.example: “Known payment outage, fixed the same day”');
});

test('a decision someone else beat is rolled back with the reason; bulk accept works', async ({ page }) => {
  await page.goto('/recommendations');
  const ids = openIds();
  const target = card(page, ids[0]);
  await expect(target).toBeVisible();
  // Another admin changes it after this page loaded.
  sql(`UPDATE io_recommendation SET version = version + 1 WHERE id = '${ids[0]}'`);
  await target.getByRole('button', { name: 'Accept' }).click();
  await expect(page.getByTestId('decision-message')).toContainText('changed by someone else');
  await expect(target.getByTestId('status')).toHaveText('open');

  await page.reload();
  for (const id of ids.slice(0, 2)) await card(page, id).getByRole('checkbox').check();
  await expect(page.getByTestId('selected-count')).toHaveText('2 selected');
  await page.getByRole('button', { name: 'Accept selected' }).click();
  await expect(page.getByTestId('decision-message')).toContainText('2 recommendation(s) accepted');
  expect(sql(`SELECT count(*) FROM io_recommendation WHERE id IN ('${ids[0]}', '${ids[1]}') AND status = 'accepted'`)).toBe('2');
});

test('admins see schema errors inline, run a model now and find the run in the history', async ({ page }) => {
  await page.goto('/admin/models');
  const form = page.locator('details.model-register', { hasText: 'robust_anomaly_detector (latest v1)' });
  await form.locator('summary').first().click();
  await form.getByLabel('Config (JSON', { exact: false }).fill('{ "lookback_days": 5000, "min_severity": "warning", "dimensions": [], "metrics": [] }');
  await form.getByRole('button', { name: 'Register as a draft' }).click();
  await expect(page.getByTestId('config-error')).toContainText('/lookback_days');
  expect(sql(`SELECT count(*) FROM io_analytical_model WHERE name = 'robust_anomaly_detector'`)).toBe('2'); // one per org: nothing added

  await page.locator('tr[data-model="robust_anomaly_detector"][data-version="1"]').getByRole('button', { name: 'Run now' }).click();
  await expect(page.getByTestId('model-message')).toContainText('robust_anomaly_detector v1 ran in');
  await expect(page.getByTestId('executions').locator('tbody tr').first()).toContainText('admin@acme.example');
  // Nothing decided before was raised again.
  expect(sql(`SELECT count(*) FROM io_recommendation_event WHERE kind = 'reopened'`)).toBe('0');
});

test.describe('as a board member', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('the board sees the recommendations but has no buttons', async ({ page }) => {
    await page.goto('/login?next=/recommendations%3Fstatus%3Dall');
    await signIn(page, 'board');
    await expect(page).toHaveURL(/\/recommendations\?status=all/);
    await expect(page.getByTestId('recommendation').first()).toBeVisible();
    await expect(page.getByText('Read-only: admins accept or dismiss.')).toBeVisible();
    await expect(page.getByRole('button', { name: /Accept|Dismiss|Reopen/ })).toHaveCount(0);
    await expect(page.getByRole('checkbox')).toHaveCount(0);
    const results = await new AxeBuilder({ page }).analyze();
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  });
});
