import { defineConfig } from 'drizzle-kit';

// Flat migrations (0000_name.sql) in migrations/: wrangler and the test helper read them.
export default defineConfig({
  dialect: 'sqlite',
  schema: './worker/src/db/schema.ts',
  out: './migrations',
});
