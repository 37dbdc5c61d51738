/**
 * `--profile`: a CPU profile of the Worker's isolate (the fetch handler, the run objects,
 * the run index and the Queue consumer all run in it under `wrangler dev`) over a row's
 * webhook phase and drain, taken through wrangler's inspector with the Chrome DevTools
 * Protocol (`Profiler.start` / `Profiler.stop`), and summarised by function, by source
 * file and by kind of work. Only the summary is written (bench/results/profile-*.json):
 * a raw profile is megabytes. Local D1 and the Queue broker run in miniflare's own
 * isolates and are not in it (they show as time the isolate waits, see bench/README.md).
 */
import { readFileSync } from 'node:fs';
import { round } from './stats.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The WebSocket URL of the Worker's isolate, from the inspector's target list. */
async function targetUrl(inspectorPort, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${inspectorPort}/json`, { signal: AbortSignal.timeout(5_000) });
      const targets = await res.json();
      last = targets;
      const t = targets.find((x) => x.webSocketDebuggerUrl) ?? null;
      if (t) return t.webSocketDebuggerUrl;
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new Error(`no inspector target on port ${inspectorPort}: ${JSON.stringify(last).slice(0, 300)}`);
}

/** A minimal CDP session over Node's global WebSocket. */
async function connect(url) {
  // wrangler's inspector proxy accepts only local origins (undici sends a User-Agent and no
  // Origin); `headers` is undici's extension of the WebSocket constructor.
  const ws = new WebSocket(url, { headers: { Origin: 'http://127.0.0.1' } });
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error(`inspector WebSocket ${url} failed`)), { once: true });
  });
  let id = 0;
  const waiting = new Map();
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data));
    const w = msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(`${w.method}: ${JSON.stringify(msg.error)}`));
    else w.resolve(msg.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      waiting.set(n, { resolve, reject, method });
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Starts sampling the Worker's isolate; `stop()` answers the raw profile. */
export async function startProfile(inspectorPort, { intervalUs = 500 } = {}) {
  const session = await connect(await targetUrl(inspectorPort));
  await session.send('Profiler.enable');
  await session.send('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.send('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.send('Profiler.stop');
      await session.send('Profiler.disable').catch(() => {});
      session.close();
      return profile;
    },
  };
}

/**
 * Source files of the bundle by line: esbuild writes `// path/to/file.ts` before each
 * module's code, so a bundle line maps back to the file it came from.
 */
function bundleFiles(bundlePath) {
  const marks = [];
  try {
    const lines = readFileSync(bundlePath, 'utf8').split('\n');
    lines.forEach((l, i) => {
      const m = /^\/\/ ((?:node_modules|worker|connectors|shared|studio|\.\.?)\/?[^\s]*\.(?:[cm]?[jt]s|json))$/.exec(l);
      if (m) marks.push({ line: i, file: m[1] });
    });
  } catch {
    // no bundle: files stay unknown
  }
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid].line <= line) {
        found = marks[mid].file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** What kind of work a frame is, by its source file (or, for builtins, its name). */
function kindOf(fn, file) {
  if (fn === '(idle)') return 'idle (waiting: I/O, D1 and the Queue in other isolates, timers)';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'runtime outside JS (workerd: RPC, storage, I/O plumbing)';
  if (file) {
    if (/node_modules\/hono\b|\/hono\//.test(file)) return 'Hono routing and middleware';
    if (/node_modules\/@hono\/zod-openapi|node_modules\/zod\b|\/zod\//.test(file)) return 'zod validation';
    if (/node_modules\/drizzle-orm/.test(file)) return 'drizzle-orm (query building)';
    // The meter's wrappers call the runtime's native methods, whose own time is charged to
    // the wrapper's frame when the native call has no frame of its own (a Durable Object
    // stub's RPC methods: serialising the arguments and dispatching the call).
    if (/worker\/src\/meter\/metered-env/.test(file)) return 'DO RPC calls (stub side: serialise, dispatch)';
    if (/worker\/src\/meter\/metered-durable-object/.test(file)) return 'object storage / SQL calls (via the meter)';
    if (/worker\/src\/meter\//.test(file)) return 'bench meter (AUTOMATE_METER only)';
    if (/worker\/src\/run-index\//.test(file)) return 'run index (JS around its SQLite)';
    if (/worker\/src\/run\//.test(file)) return 'engine: run object, consumer';
    if (/worker\/src\/(webhooks|triggers)\//.test(file)) return 'webhook intake and start';
    if (/worker\/src\/secrets\//.test(file)) return 'secrets';
    if (/connectors\//.test(file)) return 'connectors (http step)';
    if (/node_modules\//.test(file)) return `other packages (${file.split('node_modules/')[1]?.split('/')[0]})`;
    return `other app code (${file.split('/').slice(0, 3).join('/')})`;
  }
  if (/^(sign|verify|digest|importKey|exportKey|timingSafeEqual|getRandomValues|randomUUID)$/.test(fn))
    return 'crypto (HMAC, hashing)';
  if (/^(parse|stringify)$/.test(fn)) return 'JSON parse/stringify';
  if (/^(exec|toArray|one|raw|next|transactionSync|databaseSize)$/.test(fn))
    return 'SQLite (run index, object storage)';
  if (/^(get|put|delete|list|setAlarm|getAlarm|deleteAlarm)$/.test(fn)) return 'object storage API';
  if (/^(fetch|send|sendBatch|text|json|arrayBuffer)$/.test(fn)) return 'fetch / Queue send (native)';
  return 'other builtins';
}

/** Self time by function, by file and by kind, from a raw CPU profile. */
export function summariseProfile(profile, { bundlePath, runs, top = 30 }) {
  const fileOf = bundleFiles(bundlePath);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  // timeDeltas[i] is the time before sample i; the interval after a sample is charged to it.
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  const totalUs = profile.endTime - profile.startTime;
  const byFn = new Map();
  const byFile = new Map();
  const byKind = new Map();
  const add = (m, k, us) => m.set(k, (m.get(k) ?? 0) + us);
  for (const [id, us] of selfUs) {
    const n = nodes.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const fn = cf.functionName || '(anonymous)';
    const file = cf.url ? fileOf(cf.lineNumber) : null;
    const where = file
      ? `${file}:${cf.lineNumber + 1}`
      : cf.url
        ? `${cf.url.split('/').pop()}:${cf.lineNumber + 1}`
        : '(native)';
    add(byFn, `${fn} ${where}`, us);
    add(byFile, file ?? (cf.url ? cf.url : `(native) ${fn}`), us);
    add(byKind, kindOf(fn, file), us);
  }
  const idleUs = [...selfUs].reduce(
    (s, [id, us]) => (nodes.get(id)?.callFrame.functionName === '(idle)' ? s + us : s),
    0,
  );
  const busyUs = totalUs - idleUs;
  const rows = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        ms: round(us / 1000, 1),
        pctOfBusy: round((100 * us) / Math.max(1, busyUs), 1),
        msPerRun: runs ? round(us / 1000 / runs, 3) : null,
      }));
  return {
    note: "self time (CPU samples) of the Worker's isolate; D1 and the Queue broker run in other miniflare isolates and are not in it; 'idle' is the isolate waiting",
    samples: samples.length,
    wallMs: round(totalUs / 1000, 1),
    busyMs: round(busyUs / 1000, 1),
    idleMs: round(idleUs / 1000, 1),
    runs,
    busyMsPerRun: runs ? round(busyUs / 1000 / runs, 2) : null,
    byKind: rows(byKind, 40),
    byFile: rows(byFile, top),
    byFunction: rows(byFn, top),
  };
}
