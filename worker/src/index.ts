import { createApp } from './app';
import type { Env } from './env';
import { consumeDeadLetters, consumeSteps } from './run/step-consumer';
import { startDueSchedules, sweepRuns } from './triggers/scheduled';
import { reencryptBatch } from './secrets/secret-store';
import { keyringFromEnv } from './secrets/keyring';
import { createDb } from './db/client';

export { RunCoordinator } from './run/run-coordinator';

const app = createApp();

export default {
  fetch: app.fetch,

  async queue(batch, env) {
    // One Worker consumes both queues; the dead-letter queue's messages end their runs failed.
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env);
    else await consumeSteps(batch, env);
  },

  async scheduled(controller, env, ctx) {
    await startDueSchedules(env, controller.scheduledTime);
    await sweepRuns(env);
    // Master-key rotation: while an old key is still listed, move a batch of secrets off it each minute.
    const ring = env.AUTOMATE_MASTER_KEY ? await keyringFromEnv(env) : null;
    if (ring && ring.ids.length > 1) ctx.waitUntil(reencryptBatch(createDb(env.DB), ring, 100));
  },
} satisfies ExportedHandler<Env>;
