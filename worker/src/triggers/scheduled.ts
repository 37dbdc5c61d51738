/**
 * The minute cron's recovery phase: sweeps runs that should be moving but may not be.
 * (Schedules are due-schedules.ts; the phases run independently, see index.ts.)
 */
import { createDb } from '../db/client';
import type { Env } from '../env';
import { suspectRuns } from '../run/run-records';
import { runStub } from './start-run';

/**
 * Recovery: a run still `queued` after 30 s was acknowledged but its object never
 * started (the isolate died in between): start it from its D1 record. A run `running`
 * with an attempt in flight and no D1 update for a minute (any running run: 5 minutes)
 * gets a nudge: its object re-sends the attempts past their own deadline and writes a
 * missed flush (suspectRuns in run-records.ts).
 */
export async function sweepRuns(env: Env, now = Date.now()): Promise<{ started: number; nudged: number }> {
  const db = createDb(env.DB);
  const started = 0;
  let nudged = 0;
  for (const run of await suspectRuns(db, now)) {
    try {
      // A run acknowledged but never started has no case any more: its object stored the event before the 202.
      if (run.status === 'queued') continue;
      await runStub(env, run.id).nudge();
      nudged++;
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'error', runId: run.id, message: 'sweep failed for run', error: String(e) }),
      );
    }
  }
  return { started, nudged };
}
