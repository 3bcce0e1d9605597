import { defineConfig } from '@playwright/test';
import { accessServer } from './tests/access-server';

// `make test` picks a free port and passes it here; the web server script starts a
// SecantusDB with sample data and docshift on that port, and Playwright stops both.
const port = Number(process.env.DOCSHIFT_E2E_PORT ?? 3417);
// A second server, bound off-localhost with a known access token (tests/access.spec.ts).
const { authPort, accessToken } = accessServer();

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'on-first-retry',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    {
      command: `bash ../scripts/e2e-server.sh ${port}`,
      url: `http://127.0.0.1:${port}/`,
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
    },
    {
      // The same stack bound off-localhost, so it asks for its access token (tests/access.spec.ts).
      command: `bash ../scripts/e2e-server.sh ${authPort}`,
      url: `http://127.0.0.1:${authPort}/sign-in`,
      env: { DOCSHIFT_E2E_LISTEN: `0.0.0.0:${authPort}`, DOCSHIFT_ACCESS_TOKEN: accessToken },
      timeout: 180_000,
      reuseExistingServer: false,
      stdout: 'pipe',
      stderr: 'pipe',
    },
  ],
});
