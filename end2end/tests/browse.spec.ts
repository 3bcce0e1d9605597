import { expect, hydrated, test } from './helpers';

test('browse from the home page to a collection and count it', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'Browse sources' }).click();
  await expect(page).toHaveURL(/\/sources$/);

  await page.getByRole('link', { name: 'Default source' }).click();
  const databases = page.getByTestId('databases');
  await expect(databases.getByRole('row', { name: /shop/ })).toContainText('3');
  await expect(databases.getByRole('row', { name: /analytics/ })).toContainText('2');

  await databases.getByRole('link', { name: 'shop' }).click();
  const collections = page.getByTestId('collections');
  await expect(collections.getByRole('link')).toHaveText(['customers', 'orders', 'products']);

  await collections.getByRole('link', { name: 'customers' }).click();
  const documents = page.getByTestId('documents').locator('li');
  await expect(documents).toHaveCount(20);
  await expect(documents.first()).toContainText('"$oid"');
  await expect(documents.first()).toContainText('"$date"');

  // A button that only works once the page is hydrated.
  await page.getByTestId('count-button').click();
  await expect(page.getByTestId('exact-count')).toHaveText(/^[\d,]+ documents$/);
});

test('a malformed connection string is refused with the reason', async ({ page }) => {
  await page.goto('/sources');
  await hydrated(page);
  const form = page.getByTestId('add-source');
  await form.getByLabel('Connection string').fill('mongodb://db.example.com:notaport');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(page.getByTestId('error')).toContainText('not valid');
  await expect(page.getByTestId('sources').locator('li')).toHaveCount(1);
});

test('an unreachable host is reported within seconds', async ({ page }) => {
  await page.goto('/sources');
  await hydrated(page);
  const form = page.getByTestId('add-source');
  await form.getByLabel('Name').fill('nowhere');
  await form.getByLabel('Connection string').fill('mongodb://127.0.0.1:9');
  await form.getByRole('button', { name: 'Add source' }).click();
  await expect(page.getByTestId('error')).toContainText('Could not reach MongoDB at 127.0.0.1:9', { timeout: 10_000 });
  await expect(page.getByTestId('sources').locator('li')).toHaveCount(1);
});
