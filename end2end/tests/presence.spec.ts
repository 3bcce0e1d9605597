import { expect, hydrated, test } from './helpers';

test('every browser sees how many people are watching', async ({ browser }) => {
  const first = await browser.newContext();
  const second = await browser.newContext();
  const a = await first.newPage();
  const b = await second.newPage();
  await a.goto('/');
  await hydrated(a);
  await b.goto('/sources');
  await hydrated(b);

  await expect(a.getByTestId('presence')).toHaveText('2 people watching');
  await expect(b.getByTestId('presence')).toHaveText('2 people watching');

  await second.close();
  await expect(a.getByTestId('presence')).toHaveText('1 person watching');
  await first.close();
});
