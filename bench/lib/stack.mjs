/**
 * The real stack for one table row: a copy of wrangler.toml with this row's batch size,
 * D1 migrations applied to a fresh persist dir, and `wrangler dev` (workerd with local
 * D1, Durable Objects and Queues) on 127.0.0.1, as e2e/global-setup.ts starts it.
 *
 * The Worker is bundled ONCE, before the first row, and every row serves that bundle
 * (`wrangler dev --no-bundle`), with copies of studio/dist and migrations/. Other people
 * edit this tree while the bench runs: served from the source, `wrangler dev` would
 * rebuild and reload mid-run (dropping the local Queue's in-memory messages and
 * answering 503 to the requests in flight), and rows would measure different code.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { markDelete } from './disk-settle.mjs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { root, startWranglerDev, unattendedEnv as env } from '../../scripts/local-stack.mjs';

export { root };
const READY_TIMEOUT_MS = 120_000;
export const STEP_QUEUE = 'automate-steps';

const q = (s) => JSON.stringify(s); // a TOML basic string is a JSON string for plain paths

/**
 * wrangler.toml with the given absolute paths (the copy lives in a temp dir), the step
 * queue's consumer taking `batchSize` messages, and EXECUTION_BATCH_SIZE to match.
 * Line-based so that comments and everything else stay as they are; every edit must land
 * or it throws.
 */
export function benchConfig(source, batchSize, paths = {}) {
  const done = new Set();
  let section = '';
  let consumerQueue = null;
  const out = [];
  for (const line of source.split('\n')) {
    const header = /^\s*\[\[?\s*([\w.]+)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header) {
      section = header[1];
      consumerQueue = null;
      out.push(line);
      continue;
    }
    const kv = /^(\s*)([\w-]+)(\s*=\s*)(.*)$/.exec(line);
    if (!kv) {
      out.push(line);
      continue;
    }
    const [, indent, key, eq, rawValue] = kv;
    const set = (value, tag) => {
      done.add(tag);
      out.push(`${indent}${key}${eq}${value}`);
    };
    const str = () => JSON.parse(rawValue.replace(/\s*#.*$/, ''));
    if (section === '' && key === 'main') set(q(paths.main ?? path.resolve(root, str())), 'main');
    else if (section === 'assets' && key === 'directory') set(q(paths.assets ?? path.resolve(root, str())), 'assets');
    else if (section === 'd1_databases' && key === 'migrations_dir')
      set(q(paths.migrations ?? path.resolve(root, str())), 'migrations');
    else if (section === 'vars' && key === 'EXECUTION_BATCH_SIZE') set(q(String(batchSize)), 'vars');
    else if (section === 'queues.consumers' && key === 'queue') {
      consumerQueue = str();
      out.push(line);
    } else if (section === 'queues.consumers' && key === 'max_batch_size' && consumerQueue === STEP_QUEUE)
      set(String(batchSize), 'consumer');
    else out.push(line);
  }
  const missing = ['main', 'assets', 'migrations', 'vars', 'consumer'].filter((t) => !done.has(t));
  if (missing.length) {
    throw new Error(
      `wrangler.toml changed shape; the bench could not set: ${missing.join(', ')} ` +
        `(expects main, [assets] directory, [[d1_databases]] migrations_dir, [vars] EXECUTION_BATCH_SIZE, and max_batch_size after queue = "${STEP_QUEUE}" in [[queues.consumers]])`,
    );
  }
  return out.join('\n');
}

/** Every stack started and not yet stopped, so that Ctrl-C at any moment stops them. */
const live = new Set();
export const stopAllStacks = () => Promise.all([...live].map((s) => s.stop()));
export const killAllStacks = () => {
  for (const s of live) s.kill();
};

const run = (cmd, args, opts) =>
  promisify(execFile)(cmd, args, { env, maxBuffer: 64 << 20, ...opts }).catch((err) => {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${err.stdout ?? ''}\n${err.stderr ?? err.message}`);
  });

async function git(args) {
  try {
    return (await promisify(execFile)('git', args, { cwd: root })).stdout.trim();
  } catch {
    return null;
  }
}

/**
 * Freezes what the rows serve: the Worker bundled once (`wrangler deploy --dry-run`),
 * copies of studio/dist and migrations/, and which commit (and uncommitted changes) they
 * came from. Returns { dir, paths, code, remove() }.
 */
export async function snapshotCode({ log = () => {} } = {}) {
  if (!existsSync(path.join(root, 'studio/dist/studio/200.html'))) {
    log('studio/dist is missing: running npm run build:studio');
    await run('vite', ['build', '--config', 'studio/vite.config.ts', '--logLevel', 'warn'], { cwd: root });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'automate-bench-'));
  const remove = () => {
    rmSync(dir, { recursive: true, force: true });
    markDelete();
  };
  try {
    const source = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
    const assets = path.join(dir, 'assets');
    const migrations = path.join(dir, 'migrations');
    cpSync(path.join(root, 'studio/dist'), assets, { recursive: true });
    cpSync(path.join(root, 'migrations'), migrations, { recursive: true });
    const buildDir = path.join(dir, 'build');
    mkdirSync(buildDir);
    writeFileSync(path.join(buildDir, 'wrangler.toml'), benchConfig(source, 10, { assets, migrations }));
    const [commit, dirty] = await Promise.all([
      git(['rev-parse', '--short', 'HEAD']),
      git(['status', '--porcelain', '--', 'worker', 'connectors', 'migrations', 'wrangler.toml', 'package.json']),
    ]);
    log(
      `bundling the Worker once (commit ${commit ?? '?'}${dirty ? ', with uncommitted changes in worker/connectors' : ''})`,
    );
    await run(
      'wrangler',
      ['deploy', '--dry-run', '--outdir', path.join(dir, 'bundle'), '--config', path.join(buildDir, 'wrangler.toml')],
      { cwd: buildDir },
    );
    const main = path.join(dir, 'bundle/index.js');
    if (!existsSync(main)) throw new Error(`wrangler deploy --dry-run wrote no ${main}`);
    const wranglerVersion = (await run('wrangler', ['--version'], { cwd: dir })).stdout.trim().split('\n').pop();
    return {
      dir,
      source,
      paths: { main, assets, migrations },
      code: { commit, uncommittedFiles: dirty ? dirty.split('\n').length : 0, bundleBytes: readFileSync(main).length },
      wranglerVersion,
      remove,
    };
  } catch (e) {
    remove();
    throw e;
  }
}

/**
 * Starts the stack for one row; returns { baseUrl, pid, inspectorPort, dir, logFile, stop(), kill() }.
 * `metered`: with the operation counters (AUTOMATE_METER, worker/src/meter/), which cost the
 * stack throughput; without, the stack is what `npm run dev` runs.
 */
export async function startStack({ snapshot, batchSize, port, metered }) {
  const dir = mkdtempSync(path.join(snapshot.dir, `row-b${batchSize}${metered ? '-metered' : ''}-`));
  const persistTo = path.join(dir, 'persist');
  mkdirSync(persistTo);
  const config = path.join(dir, 'wrangler.toml');
  writeFileSync(config, benchConfig(snapshot.source, batchSize, snapshot.paths));
  const logFile = path.join(dir, 'wrangler.log');

  let spawning = null;
  let dev = null; // once spawned: kill() cannot wait for `spawning`
  let stopped = false;
  const handle = {};
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    live.delete(handle);
    await spawning?.catch(() => {}); // a spawn under way: stop what it starts
    await dev?.stop();
    // The row's directory (thousands of run objects' files) goes with the snapshot's at the
    // end of the bench, not now: on a file system without a journal, ext4 skips recently
    // freed inodes when it allocates new ones, so a mass delete here would slow whatever
    // the next row or the peer creates (bench/README.md, "Local disk").
  };
  /** Synchronous last resort for process exit: no waiting, no graceful shutdown. */
  const kill = () => {
    live.delete(handle);
    dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  Object.assign(handle, { stop, kill });
  live.add(handle);

  try {
    await run(
      'wrangler',
      ['d1', 'migrations', 'apply', 'DB', '--local', '--config', config, '--persist-to', persistTo],
      { cwd: dir },
    );

    if (stopped) throw new Error('stopped before wrangler dev started');
    const masterKey = `bench1:${randomBytes(32).toString('base64')}`;
    spawning = startWranglerDev({
      cwd: dir,
      logFile,
      port,
      args: [
        '--config',
        config,
        '--no-bundle',
        '--persist-to',
        persistTo,
        '--var',
        'ENVIRONMENT:development',
        '--var',
        `AUTOMATE_MASTER_KEY:${masterKey}`,
        // Counts billed operations per run (worker/src/meter/), read at /__meter; never set in production.
        ...(metered ? ['--var', 'AUTOMATE_METER:1'] : []),
      ],
    }).then((d) => (dev = d));
    await spawning;
    if (stopped) throw new Error('stopped while wrangler dev started');
    await dev.ready('/healthz', READY_TIMEOUT_MS);
    // inspectorPort: --profile attaches there (bench/lib/profile.mjs).
    return { baseUrl: dev.baseUrl, pid: dev.child.pid, inspectorPort: dev.inspectorPort, dir, logFile, stop, kill };
  } catch (e) {
    await stop();
    throw e;
  }
}
