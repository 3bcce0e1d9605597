import * as fs from 'fs';
import { Page } from '@playwright/test';
import { expect, hydrated, test } from './helpers';

// Every page at a laptop's and a phone's size, with its data loaded: nothing wider than the
// screen, a title of its own, a screenshot in screenshots/ to look at. Hover and focus keep
// controls readable.
const shots = 'screenshots';
const sizes = [
  { name: 'laptop', width: 1280, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

/** A job that refused documents, for the job page: the one the story spec ran, or a new one. */
async function finishedJobWithRefusals(page: Page): Promise<string> {
  await page.goto('/jobs');
  await hydrated(page);
  const refused = page.locator('li[data-job]').filter({ has: page.getByText(/complete, [\d,]+ refused/) });
  if ((await refused.count()) > 0) return (await refused.first().getAttribute('data-job'))!;
  await page.goto('/migrate?source=default&database=analytics&collection=sensor-readings');
  await hydrated(page);
  await page.locator('tr[data-collection="sensor-readings"]').getByTestId('target-name').fill('sensor_screens');
  await page.getByTestId('start').click();
  await page.getByTestId('name-skip').click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f]{12}$/, { timeout: 30_000 });
  await expect(page.getByTestId('status')).toHaveText(/^complete, [\d,]+ refused$/, { timeout: 240_000 });
  return page.url().split('/').pop()!;
}

/** The pages, each with what shows that its data has loaded. */
function pages(job: string): { name: string; path: string; ready: (page: Page) => Promise<void> }[] {
  const visible = (testid: string) => async (page: Page) => {
    await expect(page.getByTestId(testid).first()).toBeVisible({ timeout: 60_000 });
  };
  return [
    { name: 'home', path: '/', ready: async (page) => { await expect(page.locator('.hero')).toBeVisible(); } },
    { name: 'sources', path: '/sources', ready: visible('sources') },
    { name: 'source', path: '/sources/default', ready: visible('databases') },
    { name: 'database', path: '/sources/default/analytics', ready: visible('collections') },
    {
      // Its census lists long paths (a document nested too deep).
      name: 'collection',
      path: '/sources/default/analytics/events',
      ready: async (page) => {
        await visible('documents')(page);
        await page.getByTestId('census-button').click();
        await expect(page.getByTestId('census-reasons')).toContainText('level.level', { timeout: 120_000 });
      },
    },
    {
      name: 'document',
      path: '/sources/default/shop/products?id=SKU-00001',
      ready: visible('one-document'),
    },
    { name: 'targets', path: '/targets', ready: visible('targets') },
    {
      name: 'migrate',
      path: '/migrate?source=default&database=analytics&collection=sensor-readings',
      ready: async (page) => {
        await visible('collections-picker')(page);
        await page.getByTestId('dry-run').click();
        await visible('dry-run-report')(page);
        await visible('census-reasons')(page);
      },
    },
    { name: 'migrate-blank', path: '/migrate', ready: visible('choose-database') },
    { name: 'jobs', path: '/jobs', ready: visible('jobs') },
    { name: 'job', path: `/jobs/${job}`, ready: async (page) => { await visible('job-summary')(page); await visible('refused')(page); await visible('job-timeline')(page); } },
    { name: 'no-such-job', path: '/jobs/000000000000', ready: visible('no-such-job') },
  ];
}

test('every page fits a laptop and a phone, has its own title, and is photographed', async ({ browser, page }) => {
  test.setTimeout(600_000);
  fs.mkdirSync(shots, { recursive: true });
  const job = await finishedJobWithRefusals(page);
  for (const size of sizes) {
    const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
    const tab = await context.newPage();
    const titles = new Map<string, string>();
    for (const { name, path, ready } of pages(job)) {
      await tab.goto(path);
      await hydrated(tab);
      await ready(tab);
      const { scrollWidth, innerWidth } = await tab.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      expect(scrollWidth, `${name} at ${size.width} px is ${scrollWidth} px wide`).toBeLessThanOrEqual(innerWidth);
      const title = await tab.title();
      expect(title, `${name} has a title of its own`).not.toBe('docshift');
      for (const [other, seen] of titles) expect(seen, `${name} and ${other} share a title`).not.toBe(title);
      titles.set(name, title);
      await tab.screenshot({ path: `${shots}/${name}-${size.name}.png`, fullPage: true });
      await tab.screenshot({ path: `${shots}/${name}-${size.name}-first-screen.png` });
    }
    await context.close();
  }
});

test("times read in the user's time zone", async ({ browser }) => {
  const context = await browser.newContext({ timezoneId: 'Asia/Kolkata' });
  const page = await context.newPage();
  await page.goto('/jobs');
  await hydrated(page);
  await expect(page.locator('li[data-job] time').first()).toContainText('UTC+05:30');
  const job = await page.locator('li[data-job]').first().getAttribute('data-job');
  await page.goto(`/jobs/${job}`);
  await hydrated(page);
  await expect(page.getByTestId('job-timeline').locator('time').first()).toContainText('UTC+05:30');
  await context.close();
});

test('the top bar wraps on a phone and keeps every control on screen', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto('/jobs');
  await hydrated(page);
  for (const control of [page.getByRole('link', { name: 'Jobs', exact: true }), page.getByPlaceholder('your name'), page.getByTestId('presence')]) {
    const box = (await control.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  await context.close();
});

/** The computed text and background colours of an element. */
async function colours(page: Page, selector: string) {
  return page.locator(selector).first().evaluate((element) => {
    const style = getComputedStyle(element);
    return { color: style.color, background: style.backgroundColor, outline: style.outlineWidth, outlineStyle: style.outlineStyle };
  });
}

test('hover keeps every button readable, and focus shows a ring', async ({ page }) => {
  const cases = [
    { path: '/sources/default/analytics/sensor-readings', selector: '[data-testid="census-button"]' },
    { path: '/sources/default/analytics/sensor-readings', selector: '[data-testid="migrate-link"]' },
    { path: '/migrate?source=default&database=analytics&collection=sensor-readings', selector: '[data-testid="dry-run"]' },
    { path: '/targets', selector: '[data-testid="test-target"]' },
  ];
  for (const { path, selector } of cases) {
    await page.goto(path);
    await hydrated(page);
    await page.locator(selector).first().waitFor();
    await page.mouse.move(0, 0);
    const before = await colours(page, selector);
    expect(before.color, `${selector} before hover`).not.toBe(before.background);
    await page.locator(selector).first().hover();
    await page.waitForTimeout(100);
    const hovered = await colours(page, selector);
    expect(hovered.color, `${selector} on hover`).not.toBe(hovered.background);
    expect(hovered.color, `${selector} on hover is not see-through`).not.toBe('rgba(0, 0, 0, 0)');
  }
  // Tab to the first link of the page: the ring is at least 2 px.
  await page.goto('/');
  await hydrated(page);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement as Element);
    return { width: parseFloat(style.outlineWidth), style: style.outlineStyle };
  });
  expect(focused.style).not.toBe('none');
  expect(focused.width).toBeGreaterThanOrEqual(2);
});

test('progress and status changes reach screen readers, and form inputs have names', async ({ page }) => {
  await page.goto('/jobs');
  await hydrated(page);
  const job = await page.locator('li[data-job]').first().getAttribute('data-job');
  await page.goto(`/jobs/${job}`);
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('aria-live', 'polite');
  await expect(page.getByTestId('live-status')).not.toBeEmpty();

  await page.goto('/migrate?source=default&database=shop&collection=orders');
  await hydrated(page);
  await expect(page.getByLabel('Target name for orders')).toHaveValue('orders');
  await expect(page.getByLabel('Filter for orders')).toBeVisible();
  await expect(page.getByLabel('Paths not to index in orders')).toBeVisible();
  await expect(page.getByLabel('migrate customers')).not.toBeChecked();
  // MongoDB's own databases are not offered as data.
  const databases = await page.getByTestId('database').locator('option').allTextContents();
  expect(databases).toEqual(expect.arrayContaining(['analytics', 'shop']));
  for (const internal of ['admin', 'config', 'local']) expect(databases).not.toContain(internal);
});
