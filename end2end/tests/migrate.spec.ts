import * as fs from 'fs';
import { expect, hydrated, test } from './helpers';

const shots = 'screenshots';

test('census, then a 20,000-document migration that two browsers watch, pause and finish', async ({ browser }) => {
  test.setTimeout(600_000);
  fs.mkdirSync(shots, { recursive: true });
  const first = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const second = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const a = await first.newPage();
  const b = await second.newPage();

  // Browse to the collection and run the compatibility census.
  await a.goto('/sources/default/shop/orders');
  await hydrated(a);
  await a.getByTestId('census-button').click();
  await expect(a.getByTestId('census-convertible')).toHaveText('20,000', { timeout: 120_000 });
  await expect(a.getByTestId('census-refused')).toHaveText('0');

  // New migration, into the local sandbox target.
  await a.getByTestId('migrate-link').click();
  await expect(a.locator('tr[data-collection="orders"] input[type="checkbox"]')).toBeChecked();
  const name = a.locator('tr[data-collection="orders"]').getByTestId('target-name');
  await name.fill('orders-copy');
  await expect(a.locator('tr[data-collection="orders"]').getByTestId('name-problem')).toBeVisible();
  await name.fill('orders_copy');
  await expect(a.locator('tr[data-collection="orders"]').getByTestId('name-problem')).toHaveCount(0);
  // The first act of a browser without a name offers to set one.
  await a.getByTestId('start').click();
  await a.getByTestId('name-input').fill('Ada');
  await a.getByTestId('name-save').click();
  await expect(a).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 30_000 });

  // A second browser watches the same job.
  await b.goto(a.url());
  await hydrated(b);
  await expect(b.getByTestId('status')).toBeVisible();

  // Pause in one once documents are landing, seen as paused in the other.
  await expect(b.getByTestId('written')).not.toHaveText('0', { timeout: 120_000 });
  await a.getByPlaceholder('your name').fill('Ada');
  await a.getByPlaceholder('your name').press('Tab');
  await a.getByTestId('pause').click();
  await expect(b.getByTestId('status')).toHaveText('paused');
  await expect(b.getByTestId('job-message')).toContainText(/Paused by Ada at \d\d:\d\d:\d\d UTC/);
  await a.screenshot({ path: `${shots}/dashboard-mid-run.png`, fullPage: true });

  // Resume from the other browser; both see the job finish and verify.
  await b.getByTestId('resume').click();
  await b.getByTestId('name-input').fill('Grace');
  await b.getByTestId('name-save').click();
  for (const page of [a, b]) {
    await expect(page.getByTestId('status')).toHaveText('complete', { timeout: 480_000 });
    await expect(page.getByTestId('percent')).toHaveText('100%');
    await expect(page.getByTestId('written')).toHaveText('20,000');
    await expect(page.getByTestId('dead-lettered')).toHaveText('0');
    await expect(page.getByTestId('verification')).toContainText('Verified: all 20,000 documents');
  }
  await expect(a.getByTestId('landed').locator('li').first()).toBeVisible();
  await a.screenshot({ path: `${shots}/dashboard-verified.png`, fullPage: true });
  await first.close();
  await second.close();
});

test('refused documents are listed with their reasons and can be downloaded', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/migrate?source=default&database=analytics&collection=sensor-readings');
  await hydrated(page);
  const row = page.locator('tr[data-collection="sensor-readings"]');
  await expect(row.locator('input[type="checkbox"]')).toBeChecked();
  await expect(row.getByTestId('target-name')).toHaveValue('sensor_readings');
  await page.getByTestId('dry-run').click();
  await expect(page.getByTestId('dry-run-report')).toContainText('_id of a type Astra refuses');
  await page.getByTestId('start').click();
  await page.getByTestId('name-skip').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{12}$/);
  await expect(page.getByTestId('status')).toHaveText('complete, 6 refused', { timeout: 240_000 });
  await expect(page.getByTestId('dead-lettered')).toHaveText('6');
  const refused = page.getByTestId('refused').locator('tbody tr');
  await expect(refused).toHaveCount(6);
  await expect(refused.first()).toContainText('SHRED_BAD_DOCID_TYPE');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-dead-letters').click()]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(lines).toHaveLength(6);
  const letter = JSON.parse(lines[0]);
  expect(letter.collection).toBe('sensor-readings');
  expect(letter.reason).not.toBe('');
  expect(letter.document).toContain('"_id"');
});
