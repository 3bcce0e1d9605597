import { expect, hydrated, test } from './helpers';

// What a job tells before Start and after it ends, Cancel's confirmation, deleting a job,
// "new job with the same settings", and the 404 of an unknown job.
test.describe.configure({ mode: 'serial' });

test('before Start the dry run says what will happen; after the end the job says what happened', async ({ page }) => {
  test.setTimeout(420_000);
  await page.goto('/migrate?source=default&database=analytics&collection=events');
  await hydrated(page);
  await expect(page.getByTestId('database')).toHaveValue('analytics');
  const row = page.locator('tr[data-collection="events"]');
  await expect(row.locator('input[type="checkbox"]')).toBeChecked();
  await expect(row.getByTestId('target-note')).toHaveText('new collection');

  await page.getByTestId('dry-run').click();
  const report = page.getByTestId('dry-run-report');
  await expect(report.getByTestId('target-state')).toHaveText('events does not exist yet: the job creates it.', { timeout: 60_000 });
  await expect(report.getByTestId('collection-budget')).toContainText('this job creates 1 more');
  await expect(report).toContainText('Existing documents are kept');
  await expect(report.getByTestId('tuning')).toContainText('Parallel ranges per collection');
  await expect(report.getByTestId('policies')).toContainText('reject the document');
  await expect(report).toBeInViewport();

  // The first act offers to set a name, then acts.
  await page.getByTestId('start').click();
  await expect(page.getByTestId('name-prompt')).toBeVisible();
  await page.getByTestId('name-input').fill('Grace');
  await page.getByTestId('name-save').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 30_000 });
  const id = page.url().split('/').pop()!;
  await expect(page.getByPlaceholder('your name')).toHaveValue('Grace');

  await expect(page.getByTestId('status')).toHaveText('complete, 15 refused', { timeout: 300_000 });
  await expect(page.getByTestId('job-summary')).toContainText(
    /^Completed in [\d.]+ (ms|s|min \d\d s), [\d,]+ docs\/s on average — 14,985 written, 15 refused, verified\./,
  );
  await expect(page).toHaveTitle(`Job ${id} — complete, 15 refused · docshift`);
  const timeline = page.getByTestId('job-timeline');
  for (const step of ['Created by Grace', 'Started copying', 'Verification started', 'Verified events: 14,985 of 14,985 documents match', 'Completed']) {
    await expect(timeline).toContainText(step);
  }
  await expect(page.getByTestId('job-settings')).toContainText('every document is read back and compared');
  await expect(page.getByTestId('refused').locator('tbody tr')).toHaveCount(15);
  // Refused ids are readable and the reason does not repeat them.
  await expect(page.getByTestId('refused').locator('tbody tr').first()).not.toContainText('rejected:');
  await expect(page.getByTestId('download-dead-letters')).toHaveText('Download 15 dead letters (JSON Lines)');
  await expect(page.getByTestId('same-settings')).toHaveCount(0);

  // Listed as refused on the Jobs page, with its outcome.
  await page.getByRole('link', { name: 'Jobs', exact: true }).click();
  const listed = page.locator(`li[data-job="${id}"]`);
  await expect(listed.getByTestId('status')).toHaveText('complete, 15 refused');
  await expect(listed.getByTestId('job-outcome')).toContainText('14,985 written, 15 refused, verified');

  // Back to the job, then back to the form: it says what it started instead of inviting a duplicate.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/jobs/${id}$`));
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/migrate\\?from=${id}&started=1$`));
  await expect(page.getByTestId('started-notice')).toContainText(`You started job ${id} from this form`);
  await expect(page.locator('tr[data-collection="events"] input[type="checkbox"]')).toBeChecked();

  // A re-run's dry run says the target collection exists, and what it holds.
  await expect(page.locator('tr[data-collection="events"]').getByTestId('target-note')).toContainText('exists, holds');
  await page.getByTestId('dry-run').click();
  await expect(page.getByTestId('dry-run-report').getByTestId('target-state')).toHaveText(
    /^events exists and holds (about )?14,985 documents: the job adds to it\.$/,
    { timeout: 60_000 },
  );
  await expect(page.getByTestId('dry-run-report').getByTestId('collection-budget')).toContainText('this job creates none');
});

test('Cancel asks first; a cancelled job offers the same settings again and can be deleted', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/migrate?source=default&database=shop&collection=orders');
  await hydrated(page);
  const row = page.locator('tr[data-collection="orders"]');
  await row.getByTestId('target-name').fill('orders_cancelled');
  await page.getByTestId('start').click();
  await page.getByTestId('name-skip').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 30_000 });
  const id = page.url().split('/').pop()!;
  await expect(page.getByTestId('status')).toHaveText('running', { timeout: 30_000 });

  await page.getByTestId('cancel').click();
  const confirmation = page.getByTestId('cancel-confirmation');
  await expect(confirmation).toContainText('Cancel this job?');
  await expect(page.getByTestId('status')).not.toHaveText('cancelled');
  await expect(page.getByTestId('pause')).toHaveCount(0);
  await confirmation.getByTestId('keep-job').click();
  await expect(confirmation).toHaveCount(0);
  await expect(page.getByTestId('status')).not.toHaveText('cancelled');

  await page.getByTestId('cancel').click();
  await page.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('status')).toHaveText('cancelled');
  await expect(page.getByTestId('job-summary')).toContainText(/^Cancelled after /);
  await expect(page.getByTestId('job-timeline')).toContainText('Cancelled by someone');

  await page.getByTestId('same-settings').click();
  await expect(page).toHaveURL(new RegExp(`/migrate\\?from=${id}$`));
  await expect(page.getByTestId('from-notice')).toBeVisible();
  await expect(page.locator('tr[data-collection="orders"] input[type="checkbox"]')).toBeChecked();
  await expect(page.locator('tr[data-collection="orders"]').getByTestId('target-name')).toHaveValue('orders_cancelled');

  await page.goto(`/jobs/${id}`);
  await hydrated(page);
  await page.getByTestId('delete').click();
  await expect(page.getByTestId('delete-confirmation')).toBeVisible();
  await page.getByTestId('confirm-delete').click();
  await expect(page).toHaveURL(/\/jobs$/);
  await expect(page.locator(`li[data-job="${id}"]`)).toHaveCount(0);
  const gone = await page.goto(`/jobs/${id}`);
  expect(gone?.status()).toBe(404);
});

test('an unknown job id answers 404 with a link to Jobs', async ({ page }) => {
  const response = await page.goto('/jobs/ffffffffffff');
  expect(response?.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByTestId('no-such-job')).toContainText('No job with this id.');
  await expect(page).toHaveTitle('No such job · docshift');
  await page.getByTestId('to-jobs').click();
  await expect(page).toHaveURL(/\/jobs$/);
  const nowhere = await page.goto('/no/such/page');
  expect(nowhere?.status()).toBe(404);
});

test('a plain-sentence error first, the details folded', async ({ page }) => {
  await page.goto('/targets');
  await hydrated(page);
  const form = page.getByTestId('add-target');
  await form.getByLabel('Name').fill('nowhere');
  await form.getByLabel('API endpoint').fill('http://10.255.255.1:9');
  await expect(form.getByTestId('http-warning')).toContainText('plain http://');
  await form.getByLabel('API endpoint').fill('http://127.0.0.1:9');
  await expect(form.getByTestId('http-warning')).toHaveCount(0);
  await form.getByLabel('Application token').fill('AstraCS:nothing');
  await form.getByRole('button', { name: 'Add target' }).click();
  const error = page.getByTestId('error');
  await expect(error.locator('p').first()).toHaveText(
    "Can't reach http://127.0.0.1:9 — check the API endpoint, it looks like https://<db-id>-<region>.apps.astra.datastax.com.",
    { timeout: 30_000 },
  );
  await expect(error.getByTestId('error-details')).not.toHaveAttribute('open');
  await expect(error.getByTestId('error-details').locator('pre')).toBeHidden();
});

test("the census's example _id reads as relaxed Extended JSON and opens its document", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto('/sources/default/analytics/sensor-readings');
  await hydrated(page);
  await page.getByTestId('census-button').click();
  const example = page.getByTestId('census-reasons').getByRole('link', { name: '{"sensor":0,"seq":250}' });
  await expect(example).toBeVisible({ timeout: 60_000 });
  await example.click();
  await expect(page).toHaveURL(/\?id=/);
  await expect(page.getByTestId('one-document')).toContainText('"seq": 250');
});
