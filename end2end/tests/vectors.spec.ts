import { execFileSync } from 'child_process';
import * as path from 'path';
import { expect, hydrated, test } from './helpers';

// The venv with pymongo: $DOCSHIFT_VENV, or .venv at the workspace root (as scripts/lib.sh).
const venv = process.env.DOCSHIFT_VENV ?? path.resolve(__dirname, '../../.venv');
const python = path.join(venv, 'bin/python');

// 300 articles, each with a 32-number embedding (seeded, so every run sees the same data).
const seed = `
import random, sys, pymongo
rng = random.Random(16)
articles = pymongo.MongoClient(sys.argv[1])["library"]["articles"]
articles.drop()
articles.insert_many([{"_id": i, "title": f"article {i}", "embedding": [rng.uniform(-1, 1) for _ in range(32)]} for i in range(300)])
`;

test('the census finds the embeddings, New migration maps them, the job reports its recall', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/sources');
  await hydrated(page);
  const uri = (await page.locator('li', { has: page.locator('.tag') }).locator('code.uri').textContent())?.trim() ?? '';
  execFileSync(python, ['-c', seed, uri]);

  // The census names the field, how it is stored, its dimension, and proposes the mapping.
  await page.goto('/sources/default/library/articles');
  await hydrated(page);
  await page.getByTestId('census-button').click();
  const candidates = page.getByTestId('vector-candidates');
  await expect(candidates.locator('tr[data-field="embedding"]')).toContainText('array of numbers', { timeout: 60_000 });
  await expect(candidates.locator('tr[data-field="embedding"]')).toContainText('32');
  await expect(candidates.getByTestId('proposed-vector')).toContainText('embedding → $vector: 32 dimensions, cosine');

  // New migration: the dry run proposes it again, "Map it" fills the row, Start.
  await page.goto('/migrate?source=default&database=library&collection=articles');
  await hydrated(page);
  const row = page.locator('tr[data-collection="articles"]');
  await expect(row.getByTestId('vector-field')).toHaveValue('');
  await page.getByTestId('dry-run').click();
  await page.getByTestId('dry-run-report').getByTestId('use-vector').click();
  await expect(row.getByTestId('vector-field')).toHaveValue('embedding');
  await expect(row.getByTestId('vector-metric')).toHaveValue('cosine');
  await page.getByTestId('start').click();
  if (await page.getByTestId('name-prompt').isVisible()) {
    await page.getByTestId('name-input').fill('Ada');
    await page.getByTestId('name-save').click();
  }
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 30_000 });

  // The job: a vector collection, verified, with recall@10 from vector search.
  await expect(page.getByTestId('status')).toHaveText('complete', { timeout: 180_000 });
  await expect(page.getByTestId('job-settings').getByTestId('settings-vector')).toContainText('embedding → $vector: 32 dimensions, cosine');
  const recall = page.getByTestId('recall');
  await expect(recall).toContainText(/^Vector search: recall@10 (0\.99\d|1\.000) — Astra found [\d,]+ of the [\d,]+ exact nearest neighbours of 100 sampled documents\.$/);
});
