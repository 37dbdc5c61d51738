import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

// Two projects: `worker` runs inside workerd against real D1, Durable Objects and
// Queues; `node` drives the real CLI and a real `wrangler dev` from outside.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                bindings: { TEST_MIGRATIONS: migrations, ENVIRONMENT: 'test' },
              },
            }),
          ],
          test: {
            name: 'worker',
            include: ['worker/test/**/*.test.ts', 'connectors/**/*.test.ts'],
            setupFiles: ['./worker/test/apply-migrations.ts'],
          },
        },
      ],
    },
  };
});
