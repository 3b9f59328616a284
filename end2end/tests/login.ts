// Signing in through the real login form, with the demo accounts `insightops seed` creates.
import { expect, type Page } from '@playwright/test';

export type Role = 'admin' | 'manager' | 'board';

export const demo = (role: Role, org = 'acme') => ({ email: `${role}@${org}.example`, password: `${role}-${org}-demo` });

/** Fills and submits the login form the page is on. */
export async function signIn(page: Page, role: Role, org = 'acme') {
  const { email, password } = demo(role, org);
  await expect(page.getByRole('heading', { name: 'Sign in to InsightOps' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
