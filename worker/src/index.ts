import { env as startupEnv } from 'cloudflare:workers';
import { createApp } from './app';
import type { Env } from './env';
import { consumeDeadLetters, consumeSteps } from './run/step-consumer';
import { startDueSchedules } from './triggers/due-schedules';
import { reencryptBatch } from './secrets/secret-store';
import { reencryptMfaBatch } from './auth/mfa/mfa-store';
import { keyringFromEnv } from './secrets/keyring';
import { createDb } from './db/client';
import { pruneExpiredRuns } from './run/retention';
import { pruneExpiredWindows } from './lib/rate-windows';
import { importLegacyRuns } from './run/legacy-import';
import { RunCoordinator as Coordinator } from './run/run-coordinator';
import { RunIndex as Index } from './run-index/run-index';
import { meteredDurableObject } from './meter/metered-durable-object';
import { meteredHandler } from './meter/metered-handler';

/**
 * Bench only: `AUTOMATE_METER=1` counts every binding call for cost accounting
 * (bench/README.md, "Cost per run"). Decided once at startup; unset, the handlers below
 * are exported as they are. Inert where ENVIRONMENT is production (wrangler.toml's
 * default), since /__meter answers without authentication.
 */
const METERED = startupEnv.AUTOMATE_METER === '1' && startupEnv.ENVIRONMENT !== 'production';

export const RunCoordinator = METERED ? meteredDurableObject(Coordinator) : Coordinator;
export const RunIndex = METERED ? meteredDurableObject(Index) : Index;

const app = createApp();

async function phase(name: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (e) {
    console.error(JSON.stringify({ level: 'error', message: `minute cron phase "${name}" failed`, error: String(e) }));
  }
}

const handler = {
  fetch: app.fetch,

  async queue(batch, env) {
    // One Worker consumes both queues; the dead-letter queue's messages end their runs failed.
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeSteps(batch, env);
  },

  async scheduled(controller, env, ctx) {
    // Independent phases: a failure in one (a bad row, a D1 hiccup) is logged and
    // the others still run, so no tenant's data can stop schedules, retention, the legacy
    // import, pruning or rotation.
    await phase('schedules', () => startDueSchedules(env, controller.scheduledTime));
    await phase('retention', async () => {
      const r = await pruneExpiredRuns(createDb(env.DB), controller.scheduledTime);
      if (r.runs) console.log(JSON.stringify({ level: 'info', message: 'retention pruned runs', ...r }));
    });
    // After retention, so expired D1 rows are pruned there rather than carried into an index
    // only to be pruned again. Runs recorded in D1 before the run index move into their
    // tenant's index, a bounded batch a tick, until D1 holds none (run/legacy-import.ts).
    await phase('legacy-import', async () => {
      const r = await importLegacyRuns(env, controller.scheduledTime);
      if (r.runs) console.log(JSON.stringify({ level: 'info', message: 'imported legacy runs', ...r }));
    });
    // Ended rate-limit windows (one per address, account or tenant seen), a bounded batch a tick.
    await phase('rate-windows', async () => {
      const r = await pruneExpiredWindows(createDb(env.DB), controller.scheduledTime);
      if (r.windows) console.log(JSON.stringify({ level: 'info', message: 'pruned expired rate windows', ...r }));
    });
    // Master-key rotation: while an old key is still listed, move a batch of stored secrets
    // and of TOTP secrets (sealed the same way) off it each minute.
    ctx.waitUntil(
      phase('reencrypt', async () => {
        const ring = env.AUTOMATE_MASTER_KEY ? await keyringFromEnv(env) : null;
        if (!ring || ring.ids.length < 2) return;
        await reencryptBatch(createDb(env.DB), ring, 100);
        await reencryptMfaBatch(createDb(env.DB), ring, 100);
      }),
    );
  },
} satisfies ExportedHandler<Env>;

export default METERED ? meteredHandler(handler) : handler;
