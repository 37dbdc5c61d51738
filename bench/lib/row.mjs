/**
 * One table row: a fresh stack with the given Queue batch size, the /healthz baseline,
 * the signed-webhook phase, then waiting for every acknowledged run to finish.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { getRun, listAllRuns, PATH_A, PATH_B, setUpTenant, unfinishedCount } from './api.mjs';
import { cpuBetween, cpuSnapshot } from './cpu.mjs';
import { closedLoop } from './load.mjs';
import { costPerRun, d1Breakdown, diff, doSqlBreakdown, readMeter, waitQuiet } from './meter.mjs';
import { round, summary } from './stats.mjs';
import { startProfile, summariseProfile } from './profile.mjs';
import { startStack, STEP_QUEUE } from './stack.mjs';
import { delivery } from './webhook.mjs';

const POLL_MS = 500;
const SAMPLE_RUNS = 50;
const PREFLIGHT_TIMEOUT_MS = 30_000;
const FINAL = new Set(['succeeded', 'failed']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function stubRequests(stub, p) {
  const res = await fetch(`${stub.url}/__control/requests?path=${encodeURIComponent(p)}`, {
    signal: AbortSignal.timeout(30_000),
  });
  return res.json();
}
export const stubReset = (stub) =>
  fetch(`${stub.url}/__control/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });

/**
 * Sends one signed webhook and follows its run to the end (polling every 50 ms); throws
 * unless it was acknowledged with 202 and succeeded. Used by the preflight and the idle samples.
 */
async function sendAndFollow(baseUrl, token, hookId, hookSecret, i, label) {
  const d = delivery(hookId, hookSecret, i, label);
  const sentAt = Date.now(); // same machine, same clock as the run's timestamps
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}${d.path}`, {
    method: 'POST',
    headers: d.headers,
    body: d.body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const ackMs = performance.now() - t0;
  if (res.status !== 202) throw new Error(`${label} webhook: ${res.status} ${text.slice(0, 500)}`);
  const { runId } = JSON.parse(text);
  const deadline = Date.now() + PREFLIGHT_TIMEOUT_MS;
  let run;
  while (Date.now() < deadline) {
    await sleep(50);
    run = await getRun(baseUrl, token, runId);
    if (FINAL.has(run.status)) break;
  }
  if (run?.status !== 'succeeded')
    throw new Error(
      `${label} run ${runId} did not succeed within ${PREFLIGHT_TIMEOUT_MS / 1000} s: ${JSON.stringify(run).slice(0, 1500)}`,
    );
  return { run, ackMs, sentAt };
}

/** One delivery through to a succeeded run before any load: proves the pipeline, warms the isolate. */
async function preflight(baseUrl, token, hookId, hookSecret) {
  const { run, ackMs } = await sendAndFollow(baseUrl, token, hookId, hookSecret, 0, 'preflight');
  const steps = run.steps.map((s) => `${s.id}:${s.status}`).join(' ');
  if (steps !== 'is_big:succeeded call_a:succeeded call_b:succeeded')
    throw new Error(`preflight run took an unexpected path: ${steps}`);
  // One webhook on an idle stack (cold paths included): what a single delivery costs without load.
  return { ackMs: round(ackMs), t2fMs: run.finishedAt - run.createdAt };
}

/**
 * Idle latency: `n` webhooks one at a time on the quiet stack (after the preflight warmed
 * it), each followed to its finish before the next, and where each one's time went, from
 * the run's own timestamps (server clock; the attempt log's queued/started/finished):
 * ack = client send to 202; t2f = run created (before the 202) to finished; start = created
 * to the run object started; toA = started to call_a queued (the condition runs inline);
 * aWait = call_a queued to claimed by the consumer (the local Queue's delivery); aExec =
 * claimed to result (the HTTP call); handBack = call_a's result to call_b queued (the
 * report hands call_b back to the same consumer, claimed); bWait, bExec likewise; finish =
 * call_b's result to the run finished.
 */
async function idleLatency(baseUrl, token, hookId, hookSecret, n) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    await sleep(300); // let the previous run's index flush and acks settle: a quiet stack
    const { run, ackMs, sentAt } = await sendAndFollow(baseUrl, token, hookId, hookSecret, i, 'idle');
    const last = (sid) => run.steps.find((s) => s.id === sid)?.attemptLog?.at(-1);
    const a = last('call_a');
    const b = last('call_b');
    samples.push({
      ack: round(ackMs, 1),
      // The target's measure: the webhook sent to the run finished (its result applied).
      sentToFinish: run.finishedAt - sentAt,
      t2f: run.finishedAt - run.createdAt,
      beforeCreated: run.createdAt - sentAt,
      start: run.startedAt - run.createdAt,
      toA: a.queuedAt - run.startedAt,
      aWait: a.startedAt - a.queuedAt,
      aExec: a.finishedAt - a.startedAt,
      handBack: b.queuedAt - a.finishedAt,
      bWait: b.startedAt - b.queuedAt,
      bExec: b.finishedAt - b.startedAt,
      finish: run.finishedAt - b.finishedAt,
    });
  }
  const med = {};
  for (const k of Object.keys(samples[0] ?? {})) med[k] = round(summary(samples.map((s) => s[k])).p50, 1);
  return {
    samples: samples.length,
    median: med,
    max: round(Math.max(...samples.map((s) => s.sentToFinish))),
    each: samples,
  };
}

function phaseStats(phase, count, accepted) {
  const lat = phase.results.map((r) => r.ms);
  const s = summary(lat);
  return {
    requests: count,
    accepted,
    wallSeconds: round(phase.wallMs / 1000, 2),
    perSecond: round(accepted / (phase.wallMs / 1000), 1),
    p50Ms: round(s.p50),
    p90Ms: round(s.p90),
    p99Ms: round(s.p99),
    maxMs: round(s.max),
  };
}

/** Where a run's time went, from the step attempt logs of a sample of runs (medians, ms). */
async function breakdown(baseUrl, token, runIds) {
  const pick = [];
  const step = Math.max(1, Math.floor(runIds.length / SAMPLE_RUNS));
  for (let i = 0; i < runIds.length && pick.length < SAMPLE_RUNS; i += step) pick.push(runIds[i]);
  const parts = { kick: [], aWait: [], aExec: [], aToB: [], bWait: [], bExec: [], end: [] };
  for (const id of pick) {
    const run = await getRun(baseUrl, token, id).catch(() => null);
    if (run?.status !== 'succeeded') continue;
    const last = (sid) => run.steps.find((s) => s.id === sid)?.attemptLog?.at(-1);
    const a = last('call_a');
    const b = last('call_b');
    if (!a?.finishedAt || !b?.finishedAt) continue;
    parts.kick.push(run.startedAt - run.createdAt);
    parts.aWait.push(a.startedAt - a.queuedAt);
    parts.aExec.push(a.finishedAt - a.startedAt);
    parts.aToB.push(b.queuedAt - a.finishedAt);
    parts.bWait.push(b.startedAt - b.queuedAt);
    parts.bExec.push(b.finishedAt - b.startedAt);
    parts.end.push(run.finishedAt - b.finishedAt);
  }
  const out = {
    sampled: parts.kick.length,
    note: 'medians in ms over a sample of runs: kick = ack to run object started; *Wait = step queued to claimed by the consumer; *Exec = claimed to result (secrets, HTTP call); aToB = call_a result to call_b queued; end = call_b result to run finished',
  };
  for (const [k, v] of Object.entries(parts)) out[k] = round(summary(v).p50);
  return out;
}

/** What wrangler's log says: consumer batches (size, time), retries, dead letters, worker errors. */
function scanLog(text) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes from wrangler's log
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const batches = [...plain.matchAll(new RegExp(`QUEUE ${STEP_QUEUE} (\\d+)/(\\d+)(?: \\((\\d+)ms\\))?`, 'g'))];
  const sizes = batches.map((m) => Number(m[2]));
  const times = batches.filter((m) => m[3] !== undefined).map((m) => Number(m[3]));
  const notAcked = batches.reduce((n, m) => n + Number(m[2]) - Number(m[1]), 0);
  const lines = plain.split('\n');
  const matching = (re) => lines.filter((l) => re.test(l));
  const errors = matching(/"level":"error"|\bUncaught\b|\[ERROR\]|✘/);
  return {
    consumerBatches: batches.length,
    messagesDelivered: sizes.reduce((a, b) => a + b, 0),
    messagesNotAcked: notAcked,
    batchSizeMean: round(sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : null, 2),
    batchMs: {
      p50: round(summary(times).p50),
      p99: round(summary(times).p99),
      totalSeconds: round(times.reduce((a, b) => a + b, 0) / 1000, 2),
    },
    redeliveryWarnings: matching(/will be redelivered/).length,
    deadLettered: matching(/dead letter queue|DEAD_LETTERED|automate-steps-dlq \d+\/\d+/).length,
    // A reload (the served files changed) drops the local Queue's messages: the row is void.
    reloads: matching(/Reloading local server/).length,
    errorLines: errors.length,
    firstErrors: errors.slice(0, 5).map((l) => l.slice(0, 400)),
  };
}

/**
 * One pass of a row on a fresh stack. `metered`: the pass that counts operations (its
 * throughput is lower: the counters wrap every binding and storage call); the other pass
 * measures throughput and latency on the stack as `npm run dev` runs it.
 */
export async function runRow({ snapshot, batchSize, opts, stub, log, metered }) {
  const pass = metered ? 'metered pass' : 'throughput pass';
  log(`batch size ${batchSize}, ${pass}: starting wrangler dev (fresh D1, DO and Queue state)`);
  const stack = await startStack({ snapshot, batchSize, port: opts.port, metered });
  try {
    const base = stack.baseUrl;
    const publicPort = Number(new URL(base).port);
    await stubReset(stub);
    const { token, hookSecret, hookId } = await setUpTenant(base, stub.url);
    const idle = await preflight(base, token, hookId, hookSecret);
    log(`batch size ${batchSize}: ${opts.idleSamples} webhooks one at a time on the idle stack`);
    const idleRuns = await idleLatency(base, token, hookId, hookSecret, opts.idleSamples);
    log(`batch size ${batchSize}: idle t2f median ${idleRuns.median.t2f} ms (${JSON.stringify(idleRuns.median)})`);
    // The preflight's run is done; its runs stay in D1 but are not among this phase's run ids.
    await stubReset(stub);
    const N = opts.webhooks;
    const C = opts.concurrency;
    const loadavg = os.loadavg().map((x) => round(x, 2));

    log(`batch size ${batchSize}: GET /healthz x ${N} at concurrency ${C}`);
    const cpu0 = cpuSnapshot(stack.pid, publicPort);
    const hz = await closedLoop(base, N, C, () => ({ path: '/healthz' }));
    const cpu1 = cpuSnapshot(stack.pid, publicPort);
    const hzOk = hz.results.filter((r) => r.status === 200).length;
    const meter0 = metered ? await readMeter(base) : null;

    log(`batch size ${batchSize}: POST /hooks/${hookId.slice(0, 8)}... x ${N} signed, at concurrency ${C}`);
    const tag = `b${batchSize}`;
    const profiler = opts.profile && !metered ? await startProfile(stack.inspectorPort) : null;
    const wh = await closedLoop(base, N, C, (i) => delivery(hookId, hookSecret, i, tag));
    const cpu2 = cpuSnapshot(stack.pid, publicPort);
    const acked = [];
    const errorStatuses = {};
    for (const r of wh.results) {
      let runId = null;
      if (r.status === 202) {
        try {
          runId = JSON.parse(r.body).runId ?? null;
        } catch {
          runId = null;
        }
      }
      if (runId) acked.push({ runId, end: r.end });
      else {
        const key = r.status === 0 ? `network: ${r.body.slice(0, 80)}` : String(r.status);
        errorStatuses[key] = (errorStatuses[key] ?? 0) + 1;
      }
    }
    const firstAck = Math.min(...acked.map((a) => a.end));
    const lastAck = Math.max(...acked.map((a) => a.end));
    const distinctRuns = new Set(acked.map((a) => a.runId));

    // First wait on the counters (reading them costs nothing), so that the Explorer polls
    // below, which do cost D1 reads, fall outside the metered window.
    let quiet = null;
    let meterDelta = null;
    if (metered) {
      log(`batch size ${batchSize}: ${acked.length} acked; waiting for the stack to go quiet (operation counters)`);
      let lastMeterLog = Date.now();
      quiet = await waitQuiet(base, meter0, {
        deadline: lastAck + opts.drainTimeoutS * 1000,
        onPoll: (d) => {
          if (Date.now() - lastMeterLog < 10_000) return;
          lastMeterLog = Date.now();
          log(`batch size ${batchSize}:   ${d.queue.acks} of ${d.queue.messagesSent} step messages acked`);
        },
      });
      meterDelta = diff(meter0, quiet.meter);
    }
    const profile = profiler
      ? summariseProfile(await profiler.stop(), { bundlePath: snapshot.paths.main, runs: distinctRuns.size })
      : null;

    // Wait until the Explorer lists no queued/running run of the workflow and every acked run is final.
    log(
      `batch size ${batchSize}: ${acked.length} acked; waiting for runs to finish (at most ${opts.drainTimeoutS} s after the last ack)`,
    );
    const deadline = lastAck + opts.drainTimeoutS * 1000;
    const maxPages = Math.ceil((N + 50) / 200) + 5;
    let listed = { runs: [], complete: false };
    let byId = new Map();
    let lastProgress = 0;
    for (;;) {
      const open = await unfinishedCount(base, token).catch(() => null);
      if (open?.n === 0 || Date.now() >= deadline) {
        listed = await listAllRuns(base, token, maxPages);
        byId = new Map(listed.runs.map((r) => [r.id, r]));
        const allFinal = [...distinctRuns].every((id) => FINAL.has(byId.get(id)?.status));
        if (allFinal || Date.now() >= deadline) break;
      }
      if (Date.now() - lastProgress > 10_000) {
        lastProgress = Date.now();
        log(
          `batch size ${batchSize}:   ${open === null ? '?' : `${open.capped ? 'over ' : ''}${open.n}`} runs still queued or running`,
        );
      }
      await sleep(POLL_MS);
    }
    const cpu3 = cpuSnapshot(stack.pid, publicPort);

    const finished = [];
    const unfinished = {};
    for (const id of distinctRuns) {
      const r = byId.get(id);
      if (r && FINAL.has(r.status) && r.finishedAt) finished.push(r);
      else {
        const why = r ? r.status : 'not listed';
        unfinished[why] = unfinished[why] ?? [];
        unfinished[why].push(id);
      }
    }
    const succeeded = finished.filter((r) => r.status === 'succeeded').length;
    const failed = finished.length - succeeded;
    const t2f = finished.map((r) => r.finishedAt - r.createdAt);
    const lastFinish = finished.length ? Math.max(...finished.map((r) => r.finishedAt)) : null;
    const t2fStats = summary(t2f);
    const startLag = summary(finished.map((r) => r.startedAt - r.createdAt));
    const runsWindowS = lastFinish ? (lastFinish - firstAck) / 1000 : null;

    const [reqA, reqB] = [await stubRequests(stub, PATH_A), await stubRequests(stub, PATH_B)];
    const keyOf = (r) => r.headers['idempotency-key'] ?? r.body?.run;
    const distinctA = new Set(reqA.map(keyOf)).size;
    const distinctB = new Set(reqB.map(keyOf)).size;
    const samples = await breakdown(base, token, [...distinctRuns]);
    // Why runs failed: the failing step, its error and attempt log, for the first few.
    const failedExamples = [];
    for (const r of finished.filter((x) => x.status === 'failed').slice(0, 5)) {
      const d = await getRun(base, token, r.id).catch(() => null);
      if (!d) continue;
      failedExamples.push({
        id: r.id,
        createdAt: d.createdAt,
        finishedAt: d.finishedAt,
        error: d.error,
        steps: d.steps.map((s) => ({
          id: s.id,
          status: s.status,
          attempts: s.attempts,
          error: s.error ? { ...s.error, stack: s.error.stack?.split('\n').slice(0, 6).join('\n') } : null,
          attemptLog: s.attemptLog,
        })),
      });
    }
    const workerCpuMs = ['webhooks', 'drain']
      .map((k) => (k === 'webhooks' ? cpuBetween(cpu1, cpu2) : cpuBetween(cpu2, cpu3)))
      .reduce(
        (sum, p) => (p && sum !== null ? sum + (p.stack['workerd (worker)'] ?? 0) * p.wallSeconds * 1000 : null),
        0,
      );
    const cost =
      metered && distinctRuns.size
        ? {
            ...costPerRun(meterDelta, distinctRuns.size, {
              cpuMsPerRun: workerCpuMs === null ? null : workerCpuMs / distinctRuns.size,
            }),
            meterTimedOut: quiet.timedOut,
            d1ByStatement: d1Breakdown(meterDelta, distinctRuns.size),
            doSqlByStatement: doSqlBreakdown(meterDelta, distinctRuns.size),
            doMethods: Object.fromEntries(
              Object.entries(meterDelta.byMethod ?? {}).map(([k, v]) => [k, round(v / distinctRuns.size, 3)]),
            ),
            raw: meterDelta,
          }
        : null;
    const wlog = scanLog(readFileSync(stack.logFile, 'utf8'));
    const lost = distinctRuns.size - finished.length;
    let keptLog = null;
    if (lost || Object.keys(errorStatuses).length || failed || wlog.errorLines || wlog.reloads) {
      keptLog = path.join(os.tmpdir(), `automate-bench-wrangler-b${batchSize}-${Date.now()}.log`);
      copyFileSync(stack.logFile, keptLog);
    }

    return {
      batchSize,
      metered: Boolean(metered),
      loadavgBefore: loadavg,
      idleSingleWebhook: idle,
      idleLatency: idleRuns,
      healthz: { ...phaseStats(hz, N, hzOk), errors: N - hzOk },
      webhooks: {
        ...phaseStats(wh, N, acked.length),
        errors: N - acked.length,
        errorStatuses,
        duplicateRunIds: acked.length - distinctRuns.size,
      },
      runs: {
        acked: distinctRuns.size,
        finished: finished.length,
        succeeded,
        failed,
        failedExamples,
        lost,
        unfinished: Object.fromEntries(
          Object.entries(unfinished).map(([k, v]) => [k, { count: v.length, examples: v.slice(0, 5) }]),
        ),
        perSecond: runsWindowS ? round(finished.length / runsWindowS, 1) : null,
        windowSeconds: round(runsWindowS, 2),
        drainAfterLastAckSeconds: lastFinish ? round((lastFinish - lastAck) / 1000, 2) : null,
        t2fP50Ms: round(t2fStats.p50),
        t2fP90Ms: round(t2fStats.p90),
        t2fP99Ms: round(t2fStats.p99),
        t2fMaxMs: round(t2fStats.max),
        ackToStartP50Ms: round(startLag.p50),
        ackToStartP99Ms: round(startLag.p99),
      },
      stub: {
        bench_a: reqA.length,
        bench_b: reqB.length,
        bench_a_distinctKeys: distinctA,
        bench_b_distinctRuns: distinctB,
        // One request per step per run, each with its own idempotency key: no duplicated side effect.
        matchesSucceeded:
          distinctB === succeeded && reqB.length === succeeded && distinctA === reqA.length && reqA.length >= succeeded,
      },
      breakdown: samples,
      cost,
      // The Worker's workerd CPU per run over the webhook and drain phases of this pass.
      cpuMsPerRun: workerCpuMs === null || !distinctRuns.size ? null : round(workerCpuMs / distinctRuns.size, 2),
      consumer: wlog,
      cpu: { healthz: cpuBetween(cpu0, cpu1), webhooks: cpuBetween(cpu1, cpu2), drain: cpuBetween(cpu2, cpu3) },
      profile,
      keptLog,
    };
  } finally {
    log(`batch size ${batchSize}, ${pass}: stopping wrangler dev`);
    await stack.stop();
  }
}
