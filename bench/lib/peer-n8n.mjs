/**
 * `--peer n8n`: the same workflow (webhook → IF total >= 100 → two HTTP POSTs to the stub)
 * on n8n 1.123 (single instance, SQLite), as a newcomer runs it, under the same load.
 * n8n is a benchmark peer only: it is installed on first use into a cache directory outside
 * the repository (never a dependency of the product).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { closedLoop } from './load.mjs';
import { round, summary } from './stats.mjs';

export const N8N_VERSION = '1.123.x';
const cacheDir = () => process.env.AUTOMATE_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'automate-bench', 'n8n');
const n8nBin = () => path.join(cacheDir(), 'node_modules', 'n8n', 'bin', 'n8n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, args, opts) => promisify(execFile)(cmd, args, { maxBuffer: 64 << 20, ...opts });

/** Installs n8n into the cache directory unless it is there (the recipe that works on Node 24). */
export async function ensureN8n(log) {
  if (existsSync(n8nBin())) return;
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'automate-bench-n8n-peer',
      private: true,
      dependencies: { n8n: N8N_VERSION },
      overrides: { xlsx: '0.18.5' },
    }),
  );
  log(`installing n8n ${N8N_VERSION} into ${dir} (first use; several minutes)`);
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir });
  await run('npm', ['rebuild', 'sqlite3'], { cwd: dir });
}

/** The bench workflow in n8n's format. */
export function n8nWorkflow(stubUrl) {
  const http = (name, p, position) => ({
    parameters: {
      method: 'POST',
      url: `${stubUrl}${p}`,
      sendHeaders: true,
      headerParameters: {
        parameters: [{ name: 'Idempotency-Key', value: "={{ $('Webhook').item.json.headers['webhook-id'] }}" }],
      },
      sendBody: true,
      specifyBody: 'json',
      jsonBody:
        "={{ JSON.stringify({ order: $('Webhook').item.json.body.id, total: $('Webhook').item.json.body.total }) }}",
      options: {},
    },
    name,
    type: 'n8n-nodes-base.httpRequest',
    typeVersion: 4.2,
    position,
    id: randomUUID(),
  });
  return {
    name: 'bench_flow',
    active: true,
    nodes: [
      {
        parameters: { httpMethod: 'POST', path: 'bench', responseMode: 'onReceived', options: {} },
        name: 'Webhook',
        type: 'n8n-nodes-base.webhook',
        typeVersion: 2,
        position: [0, 0],
        webhookId: randomUUID(),
        id: randomUUID(),
      },
      {
        parameters: {
          conditions: { number: [{ value1: '={{ $json.body.total }}', operation: 'largerEqual', value2: 100 }] },
        },
        name: 'IF',
        type: 'n8n-nodes-base.if',
        typeVersion: 1,
        position: [200, 0],
        id: randomUUID(),
      },
      http('call_a', '/http/bench-a', [400, 0]),
      http('call_b', '/http/bench-b', [600, 0]),
    ],
    connections: {
      Webhook: { main: [[{ node: 'IF', type: 'main', index: 0 }]] },
      IF: { main: [[{ node: 'call_a', type: 'main', index: 0 }], []] },
      call_a: { main: [[{ node: 'call_b', type: 'main', index: 0 }]] },
    },
    settings: {},
  };
}

/** Imports and activates the workflow, starts n8n, waits until its webhook answers. */
export async function startN8n({ port, stubUrl, log }) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'automate-bench-n8n-'));
  const env = {
    ...process.env,
    N8N_USER_FOLDER: home,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_EXPRESSION_ENGINE: 'legacy',
    N8N_RUNNERS_ENABLED: 'false',
    DB_SQLITE_ENABLE_WAL: 'true',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_SECURE_COOKIE: 'false',
  };
  const file = path.join(home, 'bench_flow.json');
  writeFileSync(file, JSON.stringify([n8nWorkflow(stubUrl)]));
  await run(process.execPath, [n8nBin(), 'import:workflow', `--input=${file}`], { env });
  await run(process.execPath, [n8nBin(), 'update:workflow', '--all', '--active=true'], { env });
  // n8n's own output, kept when it refuses webhooks (keepLog).
  const logFile = path.join(home, 'n8n.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [n8nBin(), 'start'], { env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  const keepLog = () => {
    const kept = path.join(os.tmpdir(), `automate-bench-n8n-${Date.now()}.log`);
    copyFileSync(logFile, kept);
    return kept;
  };
  const stop = async () => {
    try {
      process.kill(-child.pid, 'SIGINT');
    } catch {}
    for (let i = 0; i < 40 && child.exitCode === null; i++) await sleep(250);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
    rmSync(home, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  // /healthz answers before the webhooks are registered: probe the webhook itself (total 0:
  // the IF sends it nowhere, so the stub sees nothing).
  for (;;) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error('n8n did not answer its webhook within 180 s');
    }
    const ok = await fetch(`${base}/webhook/bench`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'probe', total: 0 }),
      signal: AbortSignal.timeout(5_000),
    })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    await sleep(500);
  }
  log(`n8n is up on ${base}`);
  return { base, stop, keepLog };
}

/** The same closed loop against n8n, then waits until the stub saw every run's second call. */
export async function runPeerRow({ opts, stub, log, port, stubRequests, stubReset }) {
  await ensureN8n(log);
  const n8n = await startN8n({ port, stubUrl: stub.url, log });
  try {
    await stubReset(stub);
    const N = opts.webhooks;
    log(`n8n: POST /webhook/bench x ${N} at concurrency ${opts.concurrency}`);
    const wh = await closedLoop(n8n.base, N, opts.concurrency, (i) => {
      const body = JSON.stringify({ id: `ord-n8n-${i}`, total: 100 + (i % 900), customer: { id: `C-${i % 97}` } });
      return {
        method: 'POST',
        path: '/webhook/bench',
        headers: { 'content-type': 'application/json', 'webhook-id': `msg_n8n_${i}_${randomUUID()}` },
        body,
      };
    });
    const acked = wh.results.filter((r) => r.status === 200);
    // What n8n answered instead, so that a row with refusals says why (a few bodies kept).
    const refused = {};
    for (const r of wh.results.filter((x) => x.status !== 200)) {
      const key = r.status === 0 ? 'network' : String(r.status);
      refused[key] ??= { count: 0, bodies: [] };
      refused[key].count++;
      if (refused[key].bodies.length < 3) refused[key].bodies.push(String(r.body ?? '').slice(0, 200));
    }
    const keptLog = Object.keys(refused).length ? n8n.keepLog() : null;
    if (keptLog) log(`n8n refused ${N - acked.length} of ${N} (its log: ${keptLog}): ${JSON.stringify(refused)}`);
    const firstAck = Math.min(...acked.map((r) => r.end));
    const lastAck = Math.max(...acked.map((r) => r.end));
    const deadline = lastAck + opts.drainTimeoutS * 1000;
    let reqB = [];
    while (Date.now() < deadline) {
      reqB = await stubRequests(stub, '/http/bench-b');
      if (reqB.length >= acked.length) break;
      await sleep(500);
    }
    const lastB = reqB.length ? Math.max(...reqB.map((r) => r.at)) : null;
    const lat = summary(wh.results.map((r) => r.ms));
    const distinct = new Set(reqB.map((r) => r.headers['idempotency-key'])).size;
    return {
      peer: `n8n ${N8N_VERSION}`,
      webhooks: {
        requests: N,
        acked: acked.length,
        perSecond: round(acked.length / (wh.wallMs / 1000), 1),
        p50Ms: round(lat.p50),
        p99Ms: round(lat.p99),
        refused,
        keptLog,
      },
      runs: {
        finished: reqB.length,
        distinct,
        perSecond: lastB ? round(reqB.length / ((lastB - firstAck) / 1000), 1) : null,
        lost: acked.length - distinct,
      },
    };
  } finally {
    await n8n.stop();
  }
}
