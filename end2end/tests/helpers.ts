import { test as base, expect, BrowserContext, Page } from '@playwright/test';

/** Waits until the WASM app has hydrated and opened its socket to the server. */
export async function hydrated(page: Page) {
  await expect(page.getByTestId('presence')).toHaveAttribute('data-connected', 'true');
}

/** Console messages in which the browser reports a Content-Security-Policy violation. */
const CSP_VIOLATION = /Content Security Policy|Refused to (execute|load|apply|connect|evaluate|compile|instantiate)/i;

/**
 * Playwright's `test`, watching every page of docshift — in the default context and in any
 * context a test opens — for Content-Security-Policy violations: a test fails if one of
 * docshift's own pages was refused something by its policy. Pages of other origins (the
 * cross-site spec's attacker) are not watched.
 */
export const test = base.extend<{ cspViolations: string[] }>({
  cspViolations: [
    async ({ browser, context, baseURL }, use) => {
      const violations: string[] = [];
      const origins = new Set<string>();
      if (baseURL) origins.add(new URL(baseURL).origin);
      const watch = (c: BrowserContext) =>
        c.on('console', (message) => {
          const url = message.page()?.url() ?? '';
          const ours = [...origins].some((origin) => url.startsWith(origin));
          if (ours && CSP_VIOLATION.test(message.text())) violations.push(`${url}: ${message.text()}`);
        });
      watch(context);
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (options) => {
        const opened = await newContext(options);
        if (options?.baseURL) origins.add(new URL(options.baseURL).origin);
        watch(opened);
        return opened;
      };
      await use(violations);
      browser.newContext = newContext;
      expect(violations, 'Content-Security-Policy violations on docshift pages').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
