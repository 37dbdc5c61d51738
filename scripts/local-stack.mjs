/**
 * What starting the local stack has in common for `npm run dev` (scripts/dev.mjs), the
 * e2e tests (e2e/global-setup.ts) and `npm run bench` (bench/lib/stack.mjs): wrangler's
 * environment, free ports, and — for the two unattended ones — `wrangler dev` in a
 * process group of its own, polled until it answers, stopped as a whole group.
 * Plain ESM so that Node runs it as is; types in local-stack.d.mts.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');

/**
 * Local-only: no telemetry, no "install skills" questions, no fetch of Request.cf data.
 * `X_LOCAL_OBSERVABILITY`: wrangler (4.16x) records a trace of every invocation (each
 * request, Durable Object call, alarm and Queue batch) for its local dashboard by default;
 * on the bench that halved the stack's throughput (bench/README.md, "Wrangler's local
 * traces"). Off unless the caller's environment turns it on; the Execution Explorer and
 * the Worker's own logs are unaffected.
 */
export const wranglerEnv = {
  X_LOCAL_OBSERVABILITY: 'false',
  ...process.env,
  PATH: `${path.join(root, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_NO_SKILLS_UPDATE_PROMPTS: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  DO_NOT_TRACK: '1',
};

/** For runs nobody watches (tests, bench): CI makes wrangler ask nothing and draw no interactive UI. */
export const unattendedEnv = { ...wranglerEnv, CI: 'true' };

const STOP_GRACE_MS = 10_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

function stopGroup(child, signal) {
  try {
    // Negative pid: the whole group (wrangler, its node child, workerd, esbuild).
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function logTail(file, chars = 4000) {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '(no log)';
  }
}

/**
 * Spawns `wrangler dev` on 127.0.0.1 (`port`, or a free one) with `args` added, its output
 * going to `logFile`, and returns as soon as it is spawned — callers may have to stop it
 * while it is still starting. Detached, so that stopping it reaches workerd too, and so
 * that a Ctrl-C meant for the caller does not cut it short mid-shutdown.
 */
export async function startWranglerDev({ cwd, args, logFile, port }) {
  port ??= await freePort();
  const inspectorPort = await freePort();
  const log = createWriteStream(logFile);
  const child = spawn(
    'wrangler',
    [
      'dev',
      ...args,
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--show-interactive-dev-session=false',
    ],
    { cwd, env: unattendedEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let spawnError;
  child.on('error', (e) => (spawnError = e));
  // Two writers: neither may end the stream for the other.
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const running = () => child.exitCode === null && child.signalCode === null;

  // No way out of the caller (an uncaught error, process.exit) may leave workerd behind.
  const kill = () => {
    process.off('exit', kill);
    stopGroup(child, 'SIGKILL');
  };
  process.once('exit', kill);

  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    /** wrangler's inspector proxy (Chrome DevTools Protocol), e.g. for a CPU profile. */
    inspectorPort,
    child,
    /** Polls GET `readyPath` until it answers 2xx; throws with the log's tail if wrangler exits or the time runs out. */
    async ready(readyPath, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (spawnError) throw new Error(`Could not start wrangler dev: ${spawnError.message}`);
        if (!running())
          throw new Error(`wrangler dev exited early (${child.exitCode ?? child.signalCode}):\n${logTail(logFile)}`);
        if (Date.now() > deadline)
          throw new Error(
            `wrangler dev did not answer GET ${readyPath} within ${timeoutMs / 1000} s:\n${logTail(logFile)}`,
          );
        try {
          const res = await fetch(`${baseUrl}${readyPath}`, { signal: AbortSignal.timeout(2_000) });
          if (res.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    /** wrangler's graceful Ctrl-C shutdown, SIGKILL if it takes longer than 10 s. */
    async stop() {
      process.off('exit', kill);
      if (running()) {
        const exited = new Promise((r) => child.once('exit', r));
        stopGroup(child, 'SIGINT');
        const timer = setTimeout(() => stopGroup(child, 'SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        stopGroup(child, 'SIGKILL'); // stragglers of the group, if any
      }
      await new Promise((r) => log.end(r));
    },
    /** Synchronous last resort: no waiting, no graceful shutdown. */
    kill,
  };
}
