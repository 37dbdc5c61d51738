import type { D1Migration } from 'cloudflare:test';
import type { Env as WorkerEnv } from '../src/env';

// `env` from cloudflare:test is the Worker's Env plus the test-only migrations binding.
declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** Issuer of the local OpenID Connect provider (connectors/testing/oidc-provider.ts). */
      TEST_OIDC_ISSUER: string;
    }
  }
}
