#!/usr/bin/env node
/**
 * `npm run bench`: for each Queue batch size, start the real stack (`wrangler dev` with
 * local D1, Durable Objects and Queues), measure a bare Hono route (/healthz), then send
 * signed Standard Webhooks at a fixed concurrency to a workflow of a condition and two
 * http actions against a local stub, and wait for every acknowledged run to finish.
 * Prints one table row per batch size and writes bench/results/latest.json.
 * See bench/README.md for what each column means.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseOptions, UsageError } from './lib/options.mjs';
import { machine, renderTables } from './lib/report.mjs';
import { runPeerRow } from './lib/peer-n8n.mjs';
import { runRow, stubReset, stubRequests } from './lib/row.mjs';
import { settleDisk } from './lib/disk-settle.mjs';
import { killAllStacks, root, snapshotCode, stopAllStacks } from './lib/stack.mjs';

const t0 = Date.now();
const log = (msg) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${msg}`);

let opts;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
if (opts.help) {
  console.log(opts.help);
  process.exit(0);
}

// Cleanup on every way out: wrangler dev (a whole process group), the stub, temp dirs.
let stub = null;
let snapshot = null;
let stopping = false;
process.on('exit', () => {
  killAllStacks();
  snapshot?.remove();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping wrangler dev and the stub`);
    setTimeout(() => process.exit(130), 15_000).unref();
    await stopAllStacks().catch(() => {});
    await stub?.close().catch(() => {});
    snapshot?.remove();
    process.exit(130);
  });
}

let startStubServer;
try {
  ({ startStubServer } = await import(path.join(root, 'connectors/testing/stub-server.ts')));
} catch (e) {
  console.error(
    `Cannot load connectors/testing/stub-server.ts in Node ${process.version} (needs type stripping, Node >= 22.18): ${e.message}\nRun the bench with the project's Node: npm run bench`,
  );
  process.exit(1);
}

const out = path.resolve(opts.out ?? path.join(root, 'bench/results', opts.quick ? 'quick.json' : 'latest.json'));
const rows = [];
let peer = null;
let failure = null;
let diskSettle = null;
try {
  // Ratio rows compare two products on one disk: neither should pay for the previous bench.
  diskSettle = await settleDisk({ wait: opts.peer !== null && opts.settle, log });
  snapshot = await snapshotCode({ log });
  stub = await startStubServer();
  log(
    `stub server on ${stub.url}; ${opts.webhooks} webhooks per batch size, concurrency ${opts.concurrency}, batch sizes ${opts.batchSizes.join(', ')}`,
  );
  // Throughput and latency on the stack as `npm run dev` runs it (no operation counters),
  // then the peer right after, then the same load again on a metered stack for the counts.
  for (const batchSize of opts.batchSizes) {
    const row = await runRow({ snapshot, batchSize, opts, stub, log, metered: false });
    rows.push(row);
    const { main } = renderTables([row]);
    log(`batch size ${batchSize} done:\n${main}`);
  }
  if (opts.peer === 'n8n') {
    // Same machine, same run, same load client and stub; a free port of its own.
    const port = 20000 + Math.floor(Math.random() * 20000);
    peer = await runPeerRow({ opts, stub, log, port, stubRequests, stubReset });
  }
  if (opts.meter)
    for (const row of rows) {
      const counted = await runRow({ snapshot, batchSize: row.batchSize, opts, stub, log, metered: true });
      row.cost = counted.cost;
      // What the counters cost, and the metered pass's own check that nothing was lost.
      row.meteredPass = {
        acksPerSecond: counted.webhooks.perSecond,
        runsPerSecond: counted.runs.perSecond,
        lost: counted.runs.lost,
        failed: counted.runs.failed,
        stubMatchesSucceeded: counted.stub.matchesSucceeded,
        doInstancesPerRun: counted.cost?.counts?.doInstances ?? null,
      };
    }
} catch (e) {
  failure = e;
} finally {
  await stub?.close().catch(() => {});
  snapshot?.remove();
}

const totalSeconds = Math.round((Date.now() - t0) / 100) / 10;
if (rows.length && !stopping) {
  const { main, detail, cpu, cost, idle } = renderTables(rows);
  console.log(
    `\nAutomate bench: ${opts.webhooks} signed webhooks per row at concurrency ${opts.concurrency}, local wrangler dev (bench/README.md explains the columns)\n`,
  );
  console.log(main);
  console.log(
    "\nWhere a run's time went: one webhook on the idle stack, then medians over a sample of loaded runs; the Queue consumer\n",
  );
  console.log(detail);
  if (idle) {
    console.log(
      '\nIdle latency: webhooks one at a time on the quiet stack, medians (bench/README.md, "Idle latency", names the parts)\n',
    );
    console.log(idle);
  }
  console.log(`\nCPU by phase, in cores busy (CPU seconds per wall second; the machine has ${machine().cores})\n`);
  console.log(cpu);
  if (cost) {
    console.log(
      '\nBilled operations per run (AUTOMATE_METER counters; CPU is the local workerd process per run, an upper bound) and $ per million runs at list prices\n',
    );
    console.log(cost);
    for (const r of rows.filter((x) => x.meteredPass)) {
      const m = r.meteredPass;
      console.log(
        `(batch ${r.batchSize}: counted on a second stack under the same load, with the counters on: ${m.acksPerSecond} acks/s, ${m.runsPerSecond} runs/s, ${m.lost} lost, ${m.failed} failed; the throughput above is without them)`,
      );
    }
  }
  if (peer) {
    const w = peer.webhooks;
    console.log(
      `\nPeer ${peer.peer} (same load): ${w.acked}/${w.requests} acked, ${w.perSecond} acks/s, ack p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, ${peer.runs.perSecond} runs/s, ${peer.runs.lost} lost\n`,
    );
    if (w.acked < w.requests)
      console.log(
        `! n8n refused ${w.requests - w.acked} of ${w.requests} webhooks (${JSON.stringify(w.refused)}): the ratio rows below are void`,
      );
    for (const r of rows)
      console.log(
        `ratio Automate (batch ${r.batchSize}) / n8n: acks/s ${(r.webhooks.perSecond / w.perSecond).toFixed(2)}x, runs/s ${(r.runs.perSecond / peer.runs.perSecond).toFixed(2)}x, ack p99 ${(r.webhooks.p99Ms / w.p99Ms).toFixed(2)}x`,
      );
  }
  const reloaded = rows.filter((r) => r.consumer.reloads);
  if (reloaded.length)
    console.log(
      `\n! wrangler dev reloaded during batch size ${reloaded.map((r) => r.batchSize).join(', ')}: those rows are void`,
    );
  const result = {
    bench: 'automate webhook -> condition -> http -> http',
    date: new Date().toISOString(),
    machine: { ...machine(), wrangler: snapshot?.wranglerVersion ?? null },
    code: snapshot?.code ?? null,
    parameters: {
      webhooks: opts.webhooks,
      concurrency: opts.concurrency,
      batchSizes: opts.batchSizes,
      drainTimeoutSeconds: opts.drainTimeoutS,
      quick: opts.quick,
      profile: opts.profile,
      idleSamples: opts.idleSamples,
      meteredPass: opts.meter,
    },
    diskSettle,
    totalSeconds,
    complete: !failure && rows.length === opts.batchSizes.length,
    error: failure ? String(failure.message ?? failure) : undefined,
    rows,
    peer,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const r of rows.filter((x) => x.profile)) {
    // The summary only (a raw profile is megabytes); beside the results file.
    const file = path.join(path.dirname(out), `profile-b${r.batchSize}${opts.quick ? '-quick' : ''}.json`);
    const { date, machine: m, code, parameters } = result;
    writeFileSync(
      file,
      `${JSON.stringify({ date, machine: m, code, parameters, batchSize: r.batchSize, runs: r.runs.acked, profile: r.profile }, null, 2)}\n`,
    );
    console.log(`Wrote ${path.relative(process.cwd(), file)}`);
  }
  console.log(`\nWrote ${path.relative(process.cwd(), out) || out}; total ${totalSeconds} s`);
  for (const r of rows)
    if (r.keptLog)
      console.log(`batch size ${r.batchSize}: something went wrong; wrangler's log is kept at ${r.keptLog}`);
}
if (failure) {
  console.error(`\n✗ bench failed: ${failure.stack ?? failure}`);
  process.exit(1);
}
const bad = rows.filter(
  (r) => r.runs.lost || r.webhooks.errors || r.runs.failed || r.consumer.reloads || !r.stub.matchesSucceeded,
);
if (bad.length) {
  console.error(
    `\n✗ lost runs, errors, failed runs, reloads or a stub count mismatch at batch size ${bad.map((r) => r.batchSize).join(', ')}: see ${path.relative(process.cwd(), out)}`,
  );
  process.exit(1);
}
