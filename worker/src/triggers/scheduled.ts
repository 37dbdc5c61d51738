/**
 * The minute cron's recovery phase: sweeps runs that should be moving but may not be.
 * (Schedules are due-schedules.ts; the phases run independently, see index.ts.)
 */
import { createDb } from '../db/client';
import type { Env } from '../env';
import { recordAudit } from '../audit/audit-log';
import { suspectRuns } from '../run/run-records';
import { runStub, startRecordedRun } from './start-run';

/**
 * Recovery: a run still `queued` after 30 s was acknowledged but its object never
 * started (the isolate died in between): start it from its D1 record. A run `running`
 * with an attempt in flight and no D1 update for a minute (any running run: 5 minutes)
 * gets a nudge: its object re-sends the attempts past their own deadline and writes a
 * missed flush (suspectRuns in run-records.ts).
 */
export async function sweepRuns(env: Env, now = Date.now()): Promise<{ started: number; nudged: number }> {
  const db = createDb(env.DB);
  let started = 0;
  let nudged = 0;
  for (const run of await suspectRuns(db, now)) {
    try {
      if (run.status === 'queued') {
        // A run that can never start ends failed (start-run.ts) rather than coming back here each minute.
        if ((await startRecordedRun(env, run)) === 'started') {
          started++;
          await recordAudit(db, {
            tenantId: run.tenantId,
            actor: { type: 'system', id: null, label: 'sweeper' },
            action: 'run.recovered',
            runId: run.id,
            context: { reason: 'run was recorded but not started' },
          });
        }
      } else {
        await runStub(env, run.id).nudge();
        nudged++;
      }
    } catch (e) {
      console.error(
        JSON.stringify({ level: 'error', runId: run.id, message: 'sweep failed for run', error: String(e) }),
      );
    }
  }
  return { started, nudged };
}
