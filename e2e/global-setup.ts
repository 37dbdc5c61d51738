/**
 * Starts the real stack once for the e2e project: D1 migrations into a throwaway
 * persist dir, then `wrangler dev` (workerd with local D1, Durable Objects, Queues and
 * the studio's static build) on a free port. Tests get its URL with `inject('baseUrl')`.
 * The studio must be built first (`npm test` runs `npm run build:studio`).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Origin of the running `wrangler dev`, e.g. http://127.0.0.1:41234 */
    baseUrl: string;
  }
}

const root = path.resolve(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 90_000;

const env = {
  ...process.env,
  PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_NO_SKILLS_UPDATE_PROMPTS: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  DO_NOT_TRACK: '1',
  CI: 'true',
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function stopGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    // Negative pid: the whole group (wrangler, its node child, workerd, esbuild).
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

async function waitUntilReady(url: string, child: ChildProcess, logFile: string, spawnError: () => Error | undefined) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const failed = spawnError();
    if (failed) throw new Error(`Could not start wrangler dev: ${failed.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited early (${child.exitCode ?? child.signalCode}):\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    }
    try {
      const res = await fetch(`${url}/api/openapi.json`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
}

export default async function setup(project: TestProject) {
  if (!existsSync(path.join(root, 'studio/dist/studio/200.html'))) {
    throw new Error('The studio is not built: run `npm run build:studio` first (`npm test` does).');
  }
  const persistTo = mkdtempSync(path.join(os.tmpdir(), 'automate-e2e-'));
  const logFile = path.join(persistTo, 'wrangler.log');

  await promisify(execFile)('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], { cwd: root, env }).catch((err) => {
    throw new Error(`Applying migrations failed:\n${err.stdout}\n${err.stderr}`);
  });

  const [port, inspectorPort] = [await freePort(), await freePort()];
  const masterKey = `test1:${randomBytes(32).toString('base64')}`;
  const log = createWriteStream(logFile);
  const child = spawn(
    'wrangler',
    ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', persistTo,
      '--var', 'ENVIRONMENT:development', '--var', `AUTOMATE_MASTER_KEY:${masterKey}`, '--show-interactive-dev-session=false'],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  // If vitest itself is interrupted, teardown never runs: don't leave workerd behind.
  const onExit = () => stopGroup(child, 'SIGKILL');
  process.once('exit', onExit);

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(baseUrl, child, logFile, () => spawnError);
  } catch (err) {
    stopGroup(child, 'SIGKILL');
    throw err;
  }
  project.provide('baseUrl', baseUrl);

  return async () => {
    process.off('exit', onExit);
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
    stopGroup(child, 'SIGINT');
    const timer = setTimeout(() => stopGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    log.end();
    rmSync(persistTo, { recursive: true, force: true });
  };
}
