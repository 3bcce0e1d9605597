import * as http from 'http';
import { AddressInfo } from 'net';
import { APIRequestContext } from '@playwright/test';
import { expect, hydrated, test } from './helpers';

// A page on another origin, served by a second tiny server, tries what any website the user
// visits could: a no-cors fetch that adds a target, a text/plain JSON post that starts a
// migration, a form that submits itself to add a source, a websocket, and an iframe of
// docshift. None of it may change anything, and the iframe must not render.

/** What an attack could change, as docshift itself lists it. */
async function stored(request: APIRequestContext): Promise<string> {
  const lists: string[] = [];
  for (const fn of ['list_sources', 'list_targets', 'list_jobs']) {
    const response = await request.post(`/api/${fn}`, { form: {} });
    expect(response.status()).toBe(200);
    lists.push(await response.text());
  }
  return lists.join('\n');
}

function attackerPage(docshift: string): string {
  const migration = JSON.stringify({
    request: {
      source: 'default', database: 'shop', target: 'sandbox', who: 'attacker', parallel_ranges: 1, batch_size: 100,
      collections: [{ source: 'orders', target: 'stolen_orders', filter: '', deny: [] }],
      policy: {},
    },
  });
  return `<!DOCTYPE html><html><body>
  <h1>An innocent page</h1>
  <iframe id="docshift" src="${docshift}/" width="800" height="300"></iframe>
  <iframe name="sink" id="sink"></iframe>
  <form id="form" method="POST" action="${docshift}/api/add_source" target="sink">
    <input name="name" value="attacker"><input name="uri" value="mongodb://evil.example:27017">
  </form>
  <script>
    const settled = (p) => p.then(() => 'sent', () => 'failed');
    window.attack = Promise.all([
      settled(fetch('${docshift}/api/add_target', { method: 'POST', mode: 'no-cors',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'name=attacker&kind=data-api&endpoint=http%3A%2F%2Fevil.example&keyspace=default_keyspace&token=AstraCS%3Aevil' })),
      settled(fetch('${docshift}/api/start_migration', { method: 'POST', mode: 'no-cors',
        headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(migration)} })),
      new Promise((resolve) => {
        const socket = new WebSocket('${docshift.replace('http://', 'ws://')}/ws');
        socket.onopen = () => resolve('socket open');
        socket.onerror = () => resolve('socket refused');
      }),
    ]);
    document.getElementById('form').submit();
  </script>
</body></html>`;
}

test('a page from another site changes nothing, reads nothing and can not frame docshift', async ({ page, request, baseURL }) => {
  const docshift = new URL(baseURL!).origin;
  const before = await stored(request);
  const attacker = http.createServer((_, response) => {
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.end(attackerPage(docshift));
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const port = (attacker.address() as AddressInfo).port;
  try {
    // Another site (localhost is not 127.0.0.1), then the same host on another port.
    for (const origin of [`http://localhost:${port}`, `http://127.0.0.1:${port}`]) {
      await page.goto(`${origin}/`);
      await page.waitForLoadState('load');
      const outcomes = await page.evaluate(() => (window as any).attack);
      // The browser sent both posts (the server log shows them refused); even their opaque
      // answers are withheld from the page (Cross-Origin-Resource-Policy), so the fetches fail.
      expect(outcomes).toEqual(['failed', 'failed', 'socket refused']);
      // The iframe of docshift shows nothing of it (the page has loaded, frames included).
      await expect(page.frameLocator('#docshift').locator('header.topbar')).toHaveCount(0);
    }
  } finally {
    attacker.close();
  }
  expect(await stored(request)).toBe(before);

  // docshift's own pages still work with the same server.
  await page.goto('/targets');
  await hydrated(page);
  await expect(page.locator('header.topbar')).toBeVisible();
});

test('the policy blocks a script docshift did not send', async ({ page, cspViolations }) => {
  await page.goto('/');
  await hydrated(page);
  const ran = await page.evaluate(() => {
    (window as any).injected = false;
    const script = document.createElement('script');
    script.textContent = 'window.injected = true;';
    document.body.appendChild(script);
    return (window as any).injected;
  });
  expect(ran).toBe(false);
  // The watcher of every spec saw the refusal; this one expects it, and clears it.
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  cspViolations.length = 0;
});
