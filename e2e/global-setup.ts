/**
 * Starts the real stack once for the e2e project: D1 migrations into a throwaway
 * persist dir, then `wrangler dev` (workerd with local D1, Durable Objects, Queues and
 * the studio's static build) on a free port. Tests get its URL with `inject('baseUrl')`.
 * The studio must be built first (`npm test` runs `npm run build:studio`).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { root, startWranglerDev, unattendedEnv } from '../scripts/local-stack.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Origin of the running `wrangler dev`, e.g. http://127.0.0.1:41234 */
    baseUrl: string;
  }
}

const READY_TIMEOUT_MS = 90_000;

export default async function setup(project: TestProject) {
  if (!existsSync(path.join(root, 'studio/dist/studio/200.html'))) {
    throw new Error('The studio is not built: run `npm run build:studio` first (`npm test` does).');
  }
  const persistTo = mkdtempSync(path.join(os.tmpdir(), 'automate-e2e-'));

  await promisify(execFile)('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], {
    cwd: root,
    env: unattendedEnv,
  }).catch((err) => {
    throw new Error(`Applying migrations failed:\n${err.stdout}\n${err.stderr}`);
  });

  const masterKey = `test1:${randomBytes(32).toString('base64')}`;
  const dev = await startWranglerDev({
    cwd: root,
    logFile: path.join(persistTo, 'wrangler.log'),
    args: ['--persist-to', persistTo, '--var', 'ENVIRONMENT:development', '--var', `AUTOMATE_MASTER_KEY:${masterKey}`],
  });
  try {
    await dev.ready('/api/openapi.json', READY_TIMEOUT_MS);
  } catch (err) {
    dev.kill();
    throw err;
  }
  project.provide('baseUrl', dev.baseUrl);

  return async () => {
    await dev.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };
}
