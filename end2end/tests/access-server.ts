/** Where the access-controlled server of tests/access.spec.ts listens, and its token: one
 * definition for playwright.config.ts (which starts it) and the spec (which signs in). */
export function accessServer() {
  return {
    authPort: Number(process.env.DOCSHIFT_E2E_AUTH_PORT ?? 3418),
    accessToken: process.env.DOCSHIFT_E2E_ACCESS_TOKEN ?? 'e2e-access-token-5f0c9a1d7b3e',
  };
}
