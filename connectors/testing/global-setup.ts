import type { TestProject } from 'vitest/node';
import { startOidcProvider } from './oidc-provider';
import { startStubServer } from './stub-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the stub servers; worker tests read it as `env.STUB_URL`. */
    stubUrl: string;
    /** Issuer of the local OpenID Connect provider; worker tests read it as `env.TEST_OIDC_ISSUER`. */
    oidcIssuer: string;
  }
}

/** Where the worker tests' requests come from (worker/test/helpers/api.ts `BASE`). */
export const WORKER_TEST_ORIGIN = 'http://automate.test';

// Runs in Node before the worker tests: one stub server and one OpenID Connect provider
// shared by every test file (vitest.config.ts binds the provided URLs inside workerd).
export default async function setup(project: TestProject) {
  const stub = await startStubServer();
  const oidc = await startOidcProvider({ redirectUris: [`${WORKER_TEST_ORIGIN}/api/auth/sso/callback`] });
  project.provide('stubUrl', stub.url);
  project.provide('oidcIssuer', oidc.issuer);
  return async () => {
    await stub.close();
    await oidc.close();
  };
}
