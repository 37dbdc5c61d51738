/** Command line of `npm run bench`. */
import { parseArgs } from 'node:util';

export const MIN_WEBHOOKS = 2000;
const USAGE = `Usage: npm run bench -- [options]

  --batch-size 1,10,25   Queue batch sizes to compare, one table row each (default: 1,10,25)
  --webhooks N           Signed deliveries per batch size (default and minimum: ${MIN_WEBHOOKS})
  --concurrency N        Requests in flight, held constant (default: 25, the issue's load client)
  --drain-timeout S      Seconds to wait for runs to finish after the last ack (default: 120)
  --port N               Port for wrangler dev (default: a free one)
  --quick                Smoke run: allows fewer webhooks (default 200), writes results/quick.json
  --out FILE             Where to write the results (default: bench/results/latest.json)
  --peer n8n             Also run the same load against n8n 1.123 (installed on first use into
                         ~/.cache/automate-bench/n8n, or $AUTOMATE_BENCH_CACHE) and print ratio rows
  --profile              Also record a CPU profile of the Worker's isolate over each row's webhook
                         phase and drain (wrangler's inspector, Chrome DevTools Protocol); writes a
                         summary by function, file and kind to bench/results/profile-b<N>.json.
                         Profiling slows the stack: do not compare a profiled row's throughput
  --no-meter             Skip the metered pass (each row's same load again on a stack with the
                         operation counters, for the cost table; throughput is always measured
                         without them, as \`npm run dev\` runs)
  --no-settle            With --peer, do not wait out the six minutes after the previous bench's
                         mass delete that slow file creation on ext4 without a journal
                         (bench/lib/disk-settle.mjs); the results record the gap either way
  --idle-samples N       Webhooks sent one at a time on the idle stack before the load, each
                         followed to its finish, for the idle latency breakdown (default: 10)
  -h, --help             This text`;

function positiveInt(name, text) {
  if (!/^\d+$/.test(String(text).trim()) || Number(text) < 1)
    throw new UsageError(`--${name}: expected a positive integer, got "${text}"`);
  return Number(text);
}

export class UsageError extends Error {}

export function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'batch-size': { type: 'string' },
        webhooks: { type: 'string' },
        concurrency: { type: 'string' },
        'drain-timeout': { type: 'string' },
        port: { type: 'string' },
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        peer: { type: 'string' },
        profile: { type: 'boolean', default: false },
        'no-meter': { type: 'boolean', default: false },
        'no-settle': { type: 'boolean', default: false },
        'idle-samples': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${e.message}\n\n${USAGE}`);
  }
  if (values.help) return { help: USAGE };

  const batchSizes = (values['batch-size'] ?? '1,10,25')
    .split(',')
    .filter(Boolean)
    .map((s) => positiveInt('batch-size', s));
  if (!batchSizes.length) throw new UsageError('--batch-size: give at least one size, e.g. 10 or 1,10,25');
  for (const n of batchSizes)
    if (n > 100) throw new UsageError(`--batch-size ${n}: a Queue consumer takes at most 100 messages per batch`);

  const quick = values.quick;
  const webhooks =
    values.webhooks === undefined ? (quick ? 200 : MIN_WEBHOOKS) : positiveInt('webhooks', values.webhooks);
  if (webhooks < MIN_WEBHOOKS && !quick)
    throw new UsageError(
      `--webhooks ${webhooks}: at least ${MIN_WEBHOOKS} for a result worth recording (add --quick for a smoke run)`,
    );
  const concurrency = values.concurrency === undefined ? 25 : positiveInt('concurrency', values.concurrency);
  const idleSamples = values['idle-samples'] === undefined ? 10 : positiveInt('idle-samples', values['idle-samples']);
  const drainTimeoutS =
    values['drain-timeout'] === undefined ? 120 : positiveInt('drain-timeout', values['drain-timeout']);
  const port = values.port === undefined ? undefined : positiveInt('port', values.port);
  if (port !== undefined && port > 65535) throw new UsageError(`--port ${port}: not a TCP port`);
  if (values.peer !== undefined && values.peer !== 'n8n')
    throw new UsageError(`--peer ${values.peer}: the only peer is n8n`);
  return {
    batchSizes: [...new Set(batchSizes)],
    webhooks,
    concurrency,
    drainTimeoutS,
    port,
    quick,
    out: values.out,
    peer: values.peer ?? null,
    profile: values.profile,
    meter: !values['no-meter'],
    settle: !values['no-settle'],
    idleSamples,
  };
}
