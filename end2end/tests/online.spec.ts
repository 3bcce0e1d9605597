import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { expect, hydrated, test } from './helpers';

// The venv with pymongo: $DOCSHIFT_VENV, or .venv at the workspace root (as scripts/lib.sh).
const venv = process.env.DOCSHIFT_VENV ?? path.resolve(__dirname, '../../.venv');
const python = path.join(venv, 'bin/python');
const writerScript = path.join(__dirname, 'online_writer.py');
const shots = 'screenshots';

test('two browsers watch an online job catch up with a writer, one cuts over, both see it verified', async ({ browser }) => {
  test.setTimeout(300_000);
  fs.mkdirSync(shots, { recursive: true });
  const first = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const second = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const a = await first.newPage();
  const b = await second.newPage();

  // The source the server was started with, as the Sources page shows it (it has no password).
  await a.goto('/sources');
  await hydrated(a);
  const uri = (await a.locator('li', { has: a.locator('.tag') }).locator('code.uri').textContent())?.trim() ?? '';
  expect(uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
  execFileSync(python, [writerScript, uri, 'seed', 'shop', 'live_orders', '2000']);
  let writer: ChildProcess | undefined = spawn(python, [writerScript, uri, 'write', 'shop', 'live_orders'], { stdio: 'ignore' });

  try {
    // New migration, online, into the sandbox.
    await a.goto('/migrate?source=default&database=shop&collection=live_orders');
    await hydrated(a);
    await expect(a.locator('tr[data-collection="live_orders"] input[type="checkbox"]')).toBeChecked();
    await a.getByTestId('mode-online').check();
    await a.getByTestId('start').click();
    await expect(a).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 60_000 });
    const jobUrl = a.url();
    const jobId = jobUrl.split('/').pop() ?? '';

    // Both watch it copy, then follow the writer's changes until the lag is 0.
    await b.goto(jobUrl);
    await hydrated(b);
    for (const page of [a, b]) {
      await expect(page.getByTestId('phase')).toHaveText('following changes', { timeout: 120_000 });
      await expect(page.getByTestId('updates')).not.toHaveText('0', { timeout: 60_000 });
      await expect(page.getByTestId('lag')).toHaveText('0.0 s', { timeout: 60_000 });
    }
    await expect(a.getByTestId('change-rate')).toContainText('changes/s');
    await a.screenshot({ path: `${shots}/online-following.png`, fullPage: true });

    // The jobs list shows the lag too.
    await b.goto('/jobs');
    await hydrated(b);
    await expect(b.locator(`li[data-job="${jobId}"]`).getByTestId('lag')).toContainText('lag', { timeout: 30_000 });
    await b.goto(jobUrl);
    await hydrated(b);

    // Ada cuts over: the confirmation says what it does.
    await a.getByPlaceholder('your name').fill('Ada');
    await a.getByPlaceholder('your name').press('Tab');
    await a.getByTestId('cutover').click();
    await expect(a.getByTestId('cutover-dialog')).toContainText('barrier');
    await expect(a.getByTestId('cutover-dialog')).toContainText("Stop your application's writes");
    await a.getByTestId('cutover-confirm').click();
    for (const page of [a, b]) {
      await expect(page.getByTestId('cutover-by')).toContainText(/Cut over by Ada at \d\d:\d\d:\d\d UTC/);
    }
    writer.kill();
    writer = undefined;

    // Both see it end: complete, verified, as of the barrier.
    for (const page of [a, b]) {
      await expect(page.getByTestId('status')).toHaveText('complete', { timeout: 180_000 });
      await expect(page.getByTestId('phase')).toHaveText('complete');
      await expect(page.getByTestId('job-message')).toContainText('the target equals the source as of');
      await expect(page.getByTestId('verification')).toContainText('Verified: all');
    }
    await expect(a.getByTestId('cutover')).toHaveCount(0);
    await b.screenshot({ path: `${shots}/online-cut-over.png`, fullPage: true });
  } finally {
    writer?.kill();
    await first.close();
    await second.close();
  }
});
