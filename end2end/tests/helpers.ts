import { expect, Page } from '@playwright/test';

/** Waits until the WASM app has hydrated and opened its socket to the server. */
export async function hydrated(page: Page) {
  await expect(page.getByTestId('presence')).toHaveAttribute('data-connected', 'true');
}
