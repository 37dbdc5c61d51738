import { createApp } from './app';
import type { Env } from './env';
import { consumeDeadLetters, consumeSteps } from './run/step-consumer';
import { startDueSchedules } from './triggers/due-schedules';
import { sweepRuns } from './triggers/scheduled';
import { reencryptBatch } from './secrets/secret-store';
import { keyringFromEnv } from './secrets/keyring';
import { createDb } from './db/client';

export { RunCoordinator } from './run/run-coordinator';

const app = createApp();

async function phase(name: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (e) {
    console.error(JSON.stringify({ level: 'error', message: `minute cron phase "${name}" failed`, error: String(e) }));
  }
}

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    // One Worker consumes both queues; the dead-letter queue's messages end their runs failed.
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeSteps(batch, env);
  },

  async scheduled(controller, env, ctx) {
    // Three independent phases: a failure in one (a bad row, a D1 hiccup) is logged and
    // the others still run, so no tenant's data can stop schedules, recovery or rotation.
    await phase('schedules', () => startDueSchedules(env, controller.scheduledTime));
    await phase('sweep', () => sweepRuns(env));
    // Master-key rotation: while an old key is still listed, move a batch of secrets off it each minute.
    ctx.waitUntil(
      phase('reencrypt', async () => {
        const ring = env.AUTOMATE_MASTER_KEY ? await keyringFromEnv(env) : null;
        if (ring && ring.ids.length > 1) await reencryptBatch(createDb(env.DB), ring, 100);
      }),
    );
  },
} satisfies ExportedHandler<Env>;
