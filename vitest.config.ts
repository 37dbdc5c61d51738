import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';
import { standardDecorators } from './connectors/testing/standard-decorators';

// Two projects: `worker` runs inside workerd against real D1, Durable Objects and
// Queues, with local stub servers (started in Node by the global setup) standing in
// for third-party APIs; `e2e` drives the real CLI, a real `wrangler dev` and Chromium.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    test: {
      projects: [
        {
          plugins: [
            // Vite's TypeScript transform leaves TC39 decorators (@registerConnector) as is; workerd cannot parse them.
            standardDecorators(),
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ENVIRONMENT: 'test',
                  // A throwaway master key per test run (format: docs/secrets.md).
                  AUTOMATE_MASTER_KEY: `test1:${randomBytes(32).toString('base64')}`,
                  // Explicitly none, so a developer's .dev.vars (AUTOMATE_ENV_GRANTS="*") cannot leak in.
                  AUTOMATE_ENV_GRANTS: '',
                  // Base URL of the local stub servers (connectors/testing/stub-server.ts).
                  STUB_URL: inject<string>('stubUrl'),
                  // Issuer of the local OpenID Connect provider (connectors/testing/oidc-provider.ts).
                  TEST_OIDC_ISSUER: inject<string>('oidcIssuer'),
                  // Operator settings of the built-in connectors, pointed at the stubs.
                  CONNECTOR_LEGACY_ERP_URL: `${inject<string>('stubUrl')}/erp/soap`,
                  CONNECTOR_SLACK_API_URL: `${inject<string>('stubUrl')}/slack/api`,
                },
                // Cloudflare's send_email binding as miniflare runs it locally, for the `cloudflare`
                // mail transport's test (tests otherwise use the outbox: worker/src/mail/).
                email: { send_email: [{ name: 'MAIL' }] },
              },
            })),
          ],
          test: {
            name: 'worker',
            include: ['worker/test/**/*.test.ts', 'connectors/**/*.test.ts'],
            globalSetup: ['./connectors/testing/global-setup.ts'],
            setupFiles: ['./worker/test/apply-migrations.ts'],
          },
        },
        {
          test: {
            name: 'e2e',
            environment: 'node',
            include: ['e2e/**/*.test.ts'],
            globalSetup: ['./e2e/global-setup.ts'],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
      ],
    },
  };
});
