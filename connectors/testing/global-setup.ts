import type { TestProject } from 'vitest/node';
import { startStubServer } from './stub-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the stub servers; worker tests read it as `env.STUB_URL`. */
    stubUrl: string;
  }
}

// Runs in Node before the worker tests: one stub server shared by every test file
// (vitest.config.ts binds the provided URL as STUB_URL inside workerd).
export default async function setup(project: TestProject) {
  const stub = await startStubServer();
  project.provide('stubUrl', stub.url);
  return () => stub.close();
}
