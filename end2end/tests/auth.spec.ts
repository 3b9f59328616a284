// Sign-in per demo role: the navigation shows only what the role may use, protected URLs send
// visitors to the login page and back, sign-out ends the session, admins see the audit log.
import { test, expect } from '@playwright/test';
import { signIn, type Role } from './login';
import { sql } from './db';

test.use({ storageState: { cookies: [], origins: [] } });

const NAV: Record<Role, string[]> = {
  board: ['Overview', 'Board summary', 'Dashboard', 'Saved dashboards', 'Ask', 'Recommendations', 'Reports'],
  manager: ['Overview', 'Board summary', 'Dashboard', 'Saved dashboards', 'Ask', 'Recommendations', 'Reports', 'Load data'],
  admin: ['Overview', 'Board summary', 'Dashboard', 'Saved dashboards', 'Ask', 'Recommendations', 'Reports', 'Load data', 'Collections', 'Models', 'Users', 'Audit log', 'Jobs', 'API tokens'],
};
const LABEL: Record<Role, string> = { board: 'Board member', manager: 'Manager', admin: 'Admin' };

for (const role of ['board', 'manager', 'admin'] as Role[]) {
  test(`${role}: a protected URL leads to sign-in and back, the menu fits the role, sign-out ends it`, async ({ page }) => {
    const wanted = '/dashboard?metric=revenue&range=30d';
    await page.goto(wanted);
    await expect(page).toHaveURL(/\/login\?next=/);
    await signIn(page, role);
    await expect(page).toHaveURL(wanted);
    await expect(page.getByTestId('total-value')).toBeVisible();
    await expect(page.getByTestId('account')).toContainText(LABEL[role]);
    await expect(page.getByTestId('main-nav').getByRole('link')).toHaveText(NAV[role]);

    // What the role may not open says so, with a 403.
    const users = await page.goto('/admin/users');
    expect(users?.status()).toBe(role === 'admin' ? 200 : 403);
    if (role !== 'admin') await expect(page.getByRole('alert')).toContainText('do not have access');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByTestId('main-nav')).toHaveCount(0);
    await page.goto('/exec');
    await expect(page).toHaveURL(/\/login\?next=%2Fexec/);
  });
}

test('a wrong password is explained and the board does not see restricted metrics', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill('board@acme.example');
  await page.getByLabel('Password').fill('not-my-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error')).toContainText('email or password is not right');

  await signIn(page, 'board');
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/exec');
  await expect(page.locator('.kpi-card[data-metric="revenue"]')).toHaveCount(1);
  await expect(page.locator('.kpi-card[data-metric="marketing_spend"]')).toHaveCount(0);
  await page.goto('/dashboard?metric=churn_rate');
  await expect(page.getByTestId('anonymised')).toContainText('anonymised for your role');
  // Nor as the comparison metric, whose scatter would show it per slice.
  await page.goto('/dashboard?metric=revenue&vs=churn_rate');
  await expect(page.getByRole('alert')).toContainText('Churn rate is anonymised for your role');
  // A date no calendar arithmetic should meet is a clear message, not a crash.
  await page.goto('/dashboard?from=-262143-01-01&to=2026-01-01');
  await expect(page.getByRole('alert')).toContainText('is not a date');
  await page.goto('/exec?grain=month&period=%2B262142-12-15');
  await expect(page.getByRole('alert')).toContainText('is not a date');
});

test('a sign-in link whose next hides a tab or newline lands on this site', async ({ page }) => {
  for (const next of ['%2F%09%2Fevil.example', '%2F%0A']) {
    await page.context().clearCookies();
    await page.goto(`/login?next=${next}`);
    await signIn(page, 'manager');
    await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  }
});

test('admins change a role on the users page and find it in the audit log', async ({ page }) => {
  await page.goto('/login?next=/admin/users');
  await signIn(page, 'admin');
  await expect(page).toHaveURL(/\/admin\/users$/);
  const row = page.getByTestId('users').getByRole('row', { name: /manager@acme\.example/ });
  await row.getByLabel('New role for manager@acme.example').selectOption('board');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toContainText('manager@acme.example is now Board member');
  await expect(row.getByRole('cell', { name: 'Board member', exact: true })).toBeVisible();
  // Put it back so other tests see the seeded roles.
  await row.getByLabel('New role for manager@acme.example').selectOption('manager');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(row.getByRole('cell', { name: 'Manager', exact: true })).toBeVisible();

  await page.goto('/admin/audit?action=role_changed');
  const events = page.getByTestId('audit').locator('tbody tr');
  await expect(events).toHaveCount(2);
  await expect(events.first()).toContainText('manager@acme.example');
  await expect(events.first()).toContainText('"to":"manager"');
  await page.getByLabel('Action').selectOption('login_failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/action=login_failed/);
  await expect(page.getByTestId('audit')).toContainText('board@acme.example');
});

test.describe('before the page is interactive (no JavaScript)', () => {
  test.use({ javaScriptEnabled: false });

  test('a wrong password is explained on the login page, and the right one still signs in', async ({ page }) => {
    await page.goto('/login?next=%2Fexec');
    await page.getByLabel('Email').fill('board@acme.example');
    await page.getByLabel('Password').fill('not-my-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/login\?next=%2Fexec&error=credentials$/);
    await expect(page.getByTestId('login-error')).toContainText('email or password is not right');
    await signIn(page, 'board');
    await expect(page).toHaveURL(/\/exec$/);
  });
});

test('a session that ends during a visit signs in again and returns to the same view', async ({ page }) => {
  await page.goto('/login?next=/exec');
  await signIn(page, 'manager');
  await expect(page.getByTestId('narrative')).toBeVisible();
  const session = (await page.context().cookies()).find((c) => c.name === 'insightops_session');
  expect(session).toBeDefined();
  sql(`DELETE FROM io_session WHERE id = '${session?.value}'`);
  // A link followed inside the app: its data call is refused, and the page sends the user to sign in.
  await page.getByTestId('narrative').locator('a.cited').first().click();
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard%3Fmetric%3D/);
  await signIn(page, 'manager');
  await expect(page).toHaveURL(/\/dashboard\?metric=/);
  await expect(page.getByTestId('total-value')).toBeVisible();
});
