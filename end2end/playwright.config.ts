// Playwright drives Debian's Chromium (never a downloaded browser) against the server ../test starts.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  projects: [
    { name: 'setup', testMatch: /auth\.setup\.ts/ },
    // Page specs run signed in as the acme admin; auth.spec.ts signs in by itself.
    { name: 'app', dependencies: ['setup'], use: { storageState: '.auth/admin.json' } },
  ],
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:3107',
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
