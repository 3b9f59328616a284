// Signs in once as the acme admin and saves the session for the page specs.
import { test as setup, expect } from '@playwright/test';
import { signIn } from './login';

setup('sign in as the acme admin', async ({ page }) => {
  await page.goto('/login');
  await signIn(page, 'admin');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('account')).toContainText('Admin');
  await page.context().storageState({ path: '.auth/admin.json' });
});
