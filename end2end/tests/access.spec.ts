import { accessServer } from './access-server';
import { expect, hydrated, test } from './helpers';

// Against the second server of playwright.config.ts: bound to 0.0.0.0, so it asks for its
// access token before anything else.
const { authPort, accessToken } = accessServer();
const base = `http://127.0.0.1:${authPort}`;
test.use({ baseURL: base });

test('without a session, server functions and the websocket are refused', async ({ page, request }) => {
  const response = await request.post('/api/list_sources', { form: {} });
  expect(response.status()).toBe(401);
  expect(await response.text()).not.toContain(accessToken);

  // A page of this server (the sign-in page is open to all) tries the socket itself.
  await page.goto('/sign-in');
  const outcome = await page.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(`ws://${location.host}/ws`);
        socket.onopen = () => resolve('open');
        socket.onerror = () => resolve('refused');
      }),
  );
  expect(outcome).toBe('refused');
});

test('a page sends you to sign in, and the token brings you back to it, live', async ({ page }) => {
  await page.goto('/sources');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fsources$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // Hydrated: the form is handled by the app, not posted as a plain form.
  const form = page.getByTestId('sign-in');
  await expect(form).toHaveAttribute('data-hydrated', 'true');
  await form.getByTestId('access-token').fill('not-the-token-at-all');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('error')).toHaveText('That token is not right.');
  await expect(page).toHaveURL(/\/sign-in/);

  await form.getByTestId('access-token').fill(accessToken);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${base}/sources`);
  await hydrated(page);
  await expect(page.getByTestId('sources')).toContainText('Default source');

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'docshift_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Strict');

  // Signing out ends the session: the next page asks again.
  await page.getByTestId('sign-out').click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in\?next=%2F$/);
});
