#!/usr/bin/env node
/**
 * `npm run dev`: build the studio, make sure `.dev.vars` exists, apply D1 migrations to
 * the local database, then serve API + webhooks + studio with `wrangler dev` on
 * http://127.0.0.1:${PORT:-8787}. Everything is local (D1, Durable Objects, Queues):
 * no Cloudflare account, no network. Ctrl-C (or SIGTERM) stops wrangler.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { root, wranglerEnv as env } from './local-stack.mjs';

const port = process.env.PORT || '8787';

let current = null;
let stopping = false;

function run(cmd, args, { stdin = 'ignore' } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: [stdin, 'inherit', 'inherit'] });
    current = child;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      current = null;
      if (code === 0) resolve();
      else
        reject(
          Object.assign(
            new Error(`${cmd} ${args.join(' ')} ${signal ? `was stopped by ${signal}` : `exited with ${code}`}`),
            { code, signal },
          ),
        );
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    if (!current) process.exit(130);
    // Ctrl-C in a terminal already reached the child (same process group); a SIGTERM sent to
    // us alone did not. Either way ask for wrangler's graceful Ctrl-C shutdown.
    current.kill('SIGINT');
    setTimeout(() => current?.kill('SIGKILL'), 10_000).unref();
  });
}

const step = (text) => console.log(`\n\u25b6 ${text}`);

/**
 * `wrangler dev` does not fire Cron Triggers by itself. Deployed, Cloudflare calls the
 * Worker's scheduled handler every minute (schedule triggers, the recovery sweeper);
 * locally this does the same through wrangler's /__scheduled test route.
 */
function startCronTicker(port) {
  const tick = () => fetch(`http://127.0.0.1:${port}/__scheduled?cron=*+*+*+*+*`).catch(() => {});
  const untilNextMinute = 60_000 - (Date.now() % 60_000);
  setTimeout(() => {
    tick();
    setInterval(tick, 60_000).unref();
  }, untilNextMinute + 1_000).unref();
}

try {
  step('Building the studio');
  await run('vite', ['build', '--config', 'studio/vite.config.ts', '--logLevel', 'warn']);

  if (existsSync(path.join(root, 'scripts/ensure-dev-vars.mjs'))) {
    step('Checking .dev.vars');
    await run(process.execPath, ['scripts/ensure-dev-vars.mjs']);
  }

  // stdin is not a TTY here, so wrangler applies without asking for confirmation.
  step('Applying D1 migrations (local)');
  await run('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local']);

  step(`Serving http://127.0.0.1:${port}/ (studio at /studio/, API at /api, webhooks at /hooks)`);
  startCronTicker(port);
  await run(
    'wrangler',
    ['dev', '--ip', '127.0.0.1', '--port', port, '--var', 'ENVIRONMENT:development', '--test-scheduled'],
    { stdin: 'inherit' },
  );
} catch (err) {
  if (stopping) process.exit(0);
  console.error(`\n\u2717 ${err.message}`);
  process.exit(typeof err.code === 'number' ? err.code : 1);
}
