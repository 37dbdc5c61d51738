/** The table on stdout and the JSON record. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';

export function machine() {
  const cpus = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const rel = execFileSync('sh', ['-c', '. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME"'], {
      encoding: 'utf8',
    }).trim();
    if (rel) osName = `${rel} (${os.type()} ${os.release()})`;
  } catch {
    // keep the kernel name
  }
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName,
    arch: os.arch(),
    node: process.version,
  };
}

const fmt = (x, unit = '') => (x === null || x === undefined ? '-' : `${x}${unit}`);

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderTables(rows) {
  const main = table(
    [
      'batch',
      'webhooks',
      'acks/s',
      'ack p50',
      'ack p99',
      'runs/s',
      't2f p50',
      't2f p99',
      'lost',
      'errors',
      'failed',
      '/healthz req/s',
      'hz p50',
      'hz p99',
    ],
    rows.map((r) => [
      r.batchSize,
      r.webhooks.requests,
      fmt(r.webhooks.perSecond),
      fmt(r.webhooks.p50Ms, ' ms'),
      fmt(r.webhooks.p99Ms, ' ms'),
      fmt(r.runs.perSecond),
      fmt(r.runs.t2fP50Ms, ' ms'),
      fmt(r.runs.t2fP99Ms, ' ms'),
      r.runs.lost,
      r.webhooks.errors,
      r.runs.failed,
      fmt(r.healthz.perSecond),
      fmt(r.healthz.p50Ms, ' ms'),
      fmt(r.healthz.p99Ms, ' ms'),
    ]),
  );
  const detail = table(
    [
      'batch',
      'idle ack',
      'idle send->finish',
      'idle max',
      'kick',
      'a wait',
      'a exec',
      'a->b',
      'b wait',
      'b exec',
      'drain after last ack',
      'consumer batches',
      'mean batch',
      'batch p50',
      'stub b calls',
    ],
    rows.map((r) => {
      const b = r.breakdown;
      return [
        r.batchSize,
        // The median of the one-at-a-time webhooks (the preflight's cold run when there are none).
        fmt(r.idleLatency?.median.ack ?? r.idleSingleWebhook?.ackMs, ' ms'),
        fmt(r.idleLatency?.median.sentToFinish ?? r.idleSingleWebhook?.t2fMs, ' ms'),
        fmt(r.idleLatency?.max, ' ms'),
        fmt(b.kick, ' ms'),
        fmt(b.aWait, ' ms'),
        fmt(b.aExec, ' ms'),
        fmt(b.aToB, ' ms'),
        fmt(b.bWait, ' ms'),
        fmt(b.bExec, ' ms'),
        fmt(r.runs.drainAfterLastAckSeconds, ' s'),
        r.consumer.consumerBatches,
        fmt(r.consumer.batchSizeMean),
        fmt(r.consumer.batchMs.p50, ' ms'),
        `${r.stub.bench_b}${r.stub.matchesSucceeded ? '' : ' (!)'}`,
      ];
    }),
  );
  const phases = [
    ['healthz', '/healthz'],
    ['webhooks', 'webhooks'],
    ['drain', 'drain'],
  ];
  const cpuRows = [];
  for (const r of rows) {
    for (const [key, name] of phases) {
      const p = r.cpu[key];
      if (!p) continue;
      const st = p.stack;
      cpuRows.push([
        r.batchSize,
        name,
        `${p.wallSeconds} s`,
        fmt(st['workerd (worker)']),
        fmt(st['workerd (worker) main thread']),
        fmt(st['workerd (proxy)']),
        fmt(st['wrangler (node)']),
        fmt(p.bench),
        fmt(p.other),
        fmt(p.idle),
      ]);
    }
  }
  const cpu = table(
    [
      'batch',
      'phase',
      'wall',
      'workerd (worker)',
      '  of it main thread',
      'workerd (proxy)',
      'wrangler node',
      'bench process',
      'other processes',
      'idle',
    ],
    cpuRows,
  );
  const withCost = rows.filter((r) => r.cost);
  const cost = table(
    [
      'batch',
      'worker inv',
      'DO req',
      'DO rows w (KV+alarm / index SQL)',
      'D1 stmts',
      'D1 rows r',
      'D1 rows w',
      'queue ops',
      'CPU ms',
      'DO req + D1 rows w',
      '+ index rows w',
      '$/M runs',
    ],
    withCost.map((r) => {
      const c = r.cost.counts;
      return [
        r.batchSize,
        fmt(c.workerInvocations),
        fmt(c.doRequests),
        `${fmt(c.doRowsWritten)} (${fmt(c.doKvRowsWritten)} / ${fmt(c.doSqlRowsWritten)})`,
        fmt(c.d1Statements),
        fmt(c.d1RowsRead),
        fmt(c.d1RowsWritten),
        fmt(c.queueOperations),
        fmt(c.cpuMs),
        fmt(c.doRequestsPlusD1RowsWritten),
        fmt(c.doRequestsPlusD1AndIndexRowsWritten),
        `${fmt(r.cost.dollarsPerMillionRuns.total)}${r.cost.meterTimedOut ? ' (!)' : ''}`,
      ];
    }),
  );
  const withIdle = rows.filter((r) => r.idleLatency?.samples);
  const idleKeys = [
    'sentToFinish',
    'ack',
    'beforeCreated',
    't2f',
    'start',
    'toA',
    'aWait',
    'aExec',
    'handBack',
    'bWait',
    'bExec',
    'finish',
  ];
  const idle = table(
    ['batch', 'samples', ...idleKeys],
    withIdle.map((r) => [
      r.batchSize,
      r.idleLatency.samples,
      ...idleKeys.map((k) => fmt(r.idleLatency.median[k], ' ms')),
    ]),
  );
  return { main, detail, cpu, cost: withCost.length ? cost : null, idle: withIdle.length ? idle : null };
}
