/**
 * A hard kill of the whole local stack mid-flight, then a restart on the same state, as
 * someone running `npm run dev` would do it: every acknowledged run must finish within
 * two minutes plus its longest step time limit, none may be lost, and any HTTP call
 * that happened twice must carry the same Idempotency-Key and show in the run's attempt
 * log as a redelivery (docs/execution.md).
 *
 * Its own `wrangler dev` (not the shared one): killed with SIGKILL to the process group,
 * restarted on the same --persist-to. The scheduled handler is fired every few seconds,
 * as scripts/dev.mjs does every minute. `CRASH_WEBHOOKS=300` makes a larger manual run.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { signStandardWebhook } from '../bench/lib/webhook.mjs';
import { startStubServer, type RecordedRequest, type StubServer } from '../connectors/testing/stub-server';
import { root, startWranglerDev, unattendedEnv, type WranglerDev } from '../scripts/local-stack.mjs';
import { openBrowser } from './browser';
import { ok, signup, type Account } from './helpers';

const WEBHOOKS = Number(process.env.CRASH_WEBHOOKS ?? 48);
/** Every n-th run's second call is slow. */
const SLOW_EVERY = Number(process.env.CRASH_SLOW_EVERY ?? 4);
/** The http steps' own time limit (their `timeoutMs`), small so that the test stays short. */
const STEP_LIMIT_MS = 5_000;
/** Slow calls take this long, so that calls are in flight at the kill. */
const SLOW_MS = 3_000;
const TARGET_MS = 2 * 60_000 + STEP_LIMIT_MS;
const READY_TIMEOUT_MS = 90_000;
const SECRET_KEY = 'CRASH_HOOK_SECRET';

const persistTo = mkdtempSync(path.join(os.tmpdir(), 'automate-crash-'));
let stub: StubServer | undefined;
let dev: WranglerDev | undefined;

afterAll(async () => {
  await dev?.stop();
  await stub?.close();
  rmSync(persistTo, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startStack(port?: number): Promise<WranglerDev> {
  const started = await startWranglerDev({
    cwd: root,
    port,
    logFile: path.join(persistTo, `wrangler-${Date.now()}.log`),
    args: [
      '--persist-to',
      persistTo,
      '--var',
      'ENVIRONMENT:development',
      '--var',
      `AUTOMATE_MASTER_KEY:${masterKey}`,
      '--test-scheduled',
    ],
  });
  try {
    await started.ready('/healthz', READY_TIMEOUT_MS);
  } catch (err) {
    started.kill();
    throw err;
  }
  return started;
}
const masterKey = `crash1:${randomBytes(32).toString('base64')}`;

const callPath = (step: 'a' | 'b', n: number) => `/http/crash/${step}/${n}`;

function workflow(stubUrl: string) {
  const call = (id: string, step: 'a' | 'b', next: string | null) => ({
    id,
    type: 'action',
    connector: 'http',
    action: 'request',
    params: {
      method: 'POST',
      url: `${stubUrl}/http/crash/${step}/{{ trigger.body.n }}`,
      json: { run: '{{ run.id }}' },
      timeoutMs: STEP_LIMIT_MS,
    },
    // As a real workflow would: one transient local network error must not fail the run.
    retry: { maxAttempts: 2, initialDelayMs: 500 },
    next,
  });
  return {
    key: 'crash_flow',
    name: 'Crash recovery',
    trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: SECRET_KEY } } },
    steps: [call('call_a', 'a', 'call_b'), call('call_b', 'b', null)],
  };
}

async function stubRequests(p: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${stub!.url}/__control/requests?path=${encodeURIComponent(p)}`);
  return (await res.json()) as RecordedRequest[];
}

async function sendWebhook(baseUrl: string, hookId: string, secret: string, n: number): Promise<string | null> {
  const id = `msg_crash_${n}_${randomUUID()}`;
  const body = JSON.stringify({ n });
  const ts = Math.floor(Date.now() / 1000);
  const res = await fetch(`${baseUrl}/hooks/${hookId}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(secret, id, ts, body),
    },
    body,
  });
  const json = (await res.json().catch(() => null)) as { runId?: string } | null;
  return res.status === 202 && json?.runId ? json.runId : null;
}

const FINAL = new Set(['succeeded', 'failed']);

it(
  'finishes every acknowledged run within 2 minutes plus the step limit after a kill -9 and restart, repeats on the record',
  async () => {
    await promisify(execFile)('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo], {
      cwd: root,
      env: unattendedEnv,
    });
    stub = await startStubServer();
    dev = await startStack();
    const port = Number(new URL(dev.baseUrl).port);
    const account: Account = await signup(dev.baseUrl, 'Crash Co');
    const hookSecret = `whsec_${randomBytes(24).toString('base64')}`;
    await ok(account.api.PUT('/secrets/{key}', { params: { path: { key: SECRET_KEY } }, body: { value: hookSecret } }));
    await ok(
      account.api.POST('/workflows/import', {
        params: { query: { publish: 'true' } },
        body: workflow(stub.url) as never,
      }),
      201,
    );
    const { hookId } = await ok(account.api.GET('/workflows/{key}', { params: { path: { key: 'crash_flow' } } }));
    const slow = Array.from({ length: WEBHOOKS }, (_, n) => n).filter((n) => n % SLOW_EVERY === 0);
    for (const n of slow) {
      const res = await fetch(`${stub.url}/__control/script`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          path: callPath('b', n),
          responses: [{ status: 200, body: { slow: true }, delayMs: SLOW_MS }],
          then: 'repeat-last',
        }),
      });
      expect(res.status).toBe(200);
    }

    // Every webhook acknowledged before the kill: those runs are the promise under test.
    const acked = new Map<string, number>();
    const queue = Array.from({ length: WEBHOOKS }, (_, n) => n);
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          const runId = await sendWebhook(dev!.baseUrl, hookId, hookSecret, n);
          if (runId) acked.set(runId, n);
        }
      }),
    );
    expect(acked.size).toBe(WEBHOOKS);

    // Kill once a quarter of the runs reached their last call, while a slow one is in
    // flight (recorded by the stub, not yet answered): runs done, claimed and queued.
    const lastCalls = async () => {
      let n = 0;
      let slowInFlight = false;
      for (const i of acked.values()) {
        const hits = await stubRequests(callPath('b', i));
        if (hits.length) n++;
        if (i % SLOW_EVERY === 0 && hits.some((h) => Date.now() - h.at < SLOW_MS - 1_000)) slowInFlight = true;
      }
      return { n, slowInFlight };
    };
    const waitUntil = Date.now() + 90_000;
    for (;;) {
      const { n, slowInFlight } = await lastCalls();
      if ((n >= WEBHOOKS / 4 && slowInFlight) || Date.now() > waitUntil) break;
      await sleep(100);
    }
    dev.kill();
    const killedAt = Date.now();
    dev = undefined;

    dev = await startStack(port);
    const upAt = Date.now();
    const base = dev.baseUrl;
    // What `npm run dev` does once a minute (scripts/dev.mjs), more often so the test is short.
    const ticker = setInterval(() => {
      fetch(`${base}/__scheduled?cron=*+*+*+*+*`).catch(() => {});
    }, 5_000);

    const getRun = (id: string) => ok(account.api.GET('/runs/{id}', { params: { path: { id } } }));
    const runs = new Map<string, Awaited<ReturnType<typeof getRun>>>();
    try {
      while (Date.now() < upAt + TARGET_MS + 20_000) {
        const open = [...acked.keys()].filter((id) => !FINAL.has(runs.get(id)?.status ?? 'unknown'));
        if (!open.length) break;
        for (const id of open) runs.set(id, await getRun(id));
        await sleep(2_000);
      }
    } finally {
      clearInterval(ticker);
    }

    const notSucceeded = [...acked.keys()]
      .filter((id) => runs.get(id)?.status !== 'succeeded')
      .map((id) => `${id}: ${runs.get(id)?.status ?? 'never read'} ${JSON.stringify(runs.get(id)?.error ?? null)}`);
    expect(notSucceeded, 'runs lost or failed').toEqual([]);
    const all = [...acked.keys()].map((id) => runs.get(id)!);
    const finishedAt = (r: (typeof all)[number]) => r.finishedAt ?? Number.POSITIVE_INFINITY;

    const recovered = all.filter((r) => finishedAt(r) > killedAt);
    const afterRestart = recovered.map((r) => finishedAt(r) - upAt).sort((a, b) => a - b);
    const late = recovered.filter((r) => finishedAt(r) - upAt > TARGET_MS).map((r) => r.id);
    expect(late, `runs finished later than ${TARGET_MS} ms after the restart`).toEqual([]);
    // Otherwise the kill hit nothing and the test proves nothing.
    expect(recovered.length).toBeGreaterThan(0);

    let repeatedCalls = 0;
    let markedRedeliveries = 0;
    let redelivered: { runId: string; stepId: string } | undefined;
    for (const run of all) {
      const n = acked.get(run.id)!;
      for (const [stepId, step] of [
        ['call_a', 'a'],
        ['call_b', 'b'],
      ] as const) {
        const hits = await stubRequests(callPath(step, n));
        expect(hits.length, `${run.id} ${stepId} called`).toBeGreaterThanOrEqual(1);
        // One idempotency key per step of a run, on every call.
        expect(new Set(hits.map((h) => h.headers['idempotency-key']))).toEqual(new Set([`${run.id}.${stepId}`]));
        const record = run.steps.find((s) => s.id === stepId)!;
        const deliveries = record.attemptLog.flatMap((a) => a.deliveries ?? []);
        const redeliveries = deliveries.filter((d) => d.redelivery);
        markedRedeliveries += redeliveries.length;
        if (redeliveries.length) redelivered ??= { runId: run.id, stepId };
        if (hits.length > 1) {
          repeatedCalls++;
          // The call happened again: the Explorer must say so.
          expect(redeliveries.length, `${run.id} ${stepId}: ${hits.length} calls`).toBeGreaterThanOrEqual(
            hits.length - record.attemptLog.length,
          );
        }
      }
    }

    // The call in flight at the kill was delivered again after the restart.
    expect(redelivered, 'no redelivery recorded').toBeDefined();
    // ...and the run page says so on its attempt.
    const browser = await openBrowser(base, { cookie: account.cookie });
    try {
      await browser.page.goto(`${base}/studio/runs/${redelivered!.runId}`);
      const note = browser.page
        .locator(`[data-testid="step"][data-step="${redelivered!.stepId}"]`)
        .getByTestId('attempt-redelivered');
      expect(await note.first().textContent()).toMatch(
        /Delivered \d+ times \(.*\): the call may have happened more than once, with the same Idempotency-Key/,
      );
      await browser.screenshot('studio-run-redelivered.png');
    } finally {
      await browser.close();
    }

    const p = (q: number) => afterRestart[Math.min(afterRestart.length - 1, Math.floor(q * afterRestart.length))];
    console.log(
      `crash recovery: ${WEBHOOKS} webhooks acknowledged, ${WEBHOOKS - recovered.length} finished before the kill, ` +
        `${recovered.length} after it; restart took ${((upAt - killedAt) / 1000).toFixed(1)} s; ` +
        `finished after the restart: p50 ${(p(0.5) / 1000).toFixed(1)} s, max ${(afterRestart[afterRestart.length - 1] / 1000).toFixed(1)} s ` +
        `(target ${TARGET_MS / 1000} s); repeated calls ${repeatedCalls}, redeliveries recorded ${markedRedeliveries}`,
    );
  },
  TARGET_MS + 4 * READY_TIMEOUT_MS,
);
