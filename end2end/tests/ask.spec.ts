// Asking questions on /ask: three questions answered with the data's numbers, the history with
// feedback, an answer's link to its chart; a question it cannot read gets suggestions; axe and
// a 390 px phone.
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { sql } from './db';

const ask = async (page: import('@playwright/test').Page, question: string) => {
  const box = page.getByLabel('Ask a question about your numbers');
  await box.fill(question);
  await box.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/ask\\?q=${encodeURIComponent(question.split(' ')[0])}`));
};

test('three questions are answered with the numbers, kept in the history, and open their chart', async ({ page }) => {
  await page.goto('/ask');
  const answer = page.getByTestId('answer');

  await ask(page, 'How many orders last month?');
  const month = sql(`WITH last AS (SELECT max(kpi_date) AS d FROM io_kpi_daily k JOIN io_org o ON o.id = k.org_id WHERE o.slug = 'acme')
    SELECT to_char(CASE WHEN d = (date_trunc('month', d) + interval '1 month - 1 day')::date
                        THEN date_trunc('month', d) ELSE date_trunc('month', d) - interval '1 month' END, 'YYYY-MM') FROM last`);
  const orders = Number(sql(`SELECT sum(value) FROM io_kpi_daily k JOIN io_org o ON o.id = k.org_id
      WHERE o.slug = 'acme' AND metric_key = 'orders' AND to_char(kpi_date, 'YYYY-MM') = '${month}'`));
  await expect(answer).toContainText(`last month (${month})`);
  const shown = ((await answer.textContent()) ?? '').match(/Orders was ([\d,]+) in/)?.[1] ?? '';
  expect(Number(shown.replace(/,/g, ''))).toBe(orders);
  await expect(page.getByTestId('confidence')).toContainText('Confidence');

  await ask(page, 'Why did revenue change in EMEA last week?');
  await expect(answer).toContainText('Revenue was $');
  await expect(answer).toContainText('in EMEA');

  await ask(page, 'Top regions by orders this quarter');
  await expect(answer).toContainText('Top regions by Orders');
  await expect(page.locator('#chart-answer canvas')).toHaveCount(1);

  const history = page.getByTestId('ask-history').locator('li');
  await expect(history.first()).toContainText('Top regions by orders this quarter');
  expect(await history.count()).toBeGreaterThanOrEqual(3);
  await page.getByRole('button', { name: 'Yes' }).click();
  await expect(history.first()).toContainText('useful');
  expect(sql(`SELECT useful FROM io_ai_insight ORDER BY created_at DESC LIMIT 1`)).toBe('t');

  await page.getByTestId('answer-link').click();
  await expect(page).toHaveURL(/\/dashboard\?metric=orders/);
  await expect(page.locator('#chart-trend canvas')).toHaveCount(1);
});

test('a question it cannot read gets suggestions, not a number; the page passes axe and fits a phone', async ({ page }) => {
  await page.goto('/ask?q=' + encodeURIComponent('What is the weather like?'));
  await expect(page.getByTestId('answer')).toContainText('I could not answer that');
  await expect(page.getByTestId('suggestions').locator('a')).toHaveCount(5);
  await page.getByTestId('suggestions').locator('a').first().click();
  await expect(page.getByTestId('answer')).toContainText(' was ');
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  // On a phone: the answer, its chart and the history fit the width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/ask?q=' + encodeURIComponent('Why did revenue change in EMEA last month?'));
  await expect(page.getByTestId('answer')).toContainText('Revenue was');
  await expect(page.locator('#chart-answer canvas')).toHaveCount(1);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
