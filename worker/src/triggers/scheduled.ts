/**
 * The Worker's minute cron: starts schedule-triggered runs whose cron matches this
 * minute (a slot row makes a second invocation for the same minute start nothing),
 * then sweeps runs that should be moving but may not be.
 */
import { createDb } from '../db/client';
import type { Env } from '../env';
import { recordAudit } from '../audit/audit-log';
import { suspectRuns } from '../run/run-records';
import { cronMatches } from './cron';
import { initFromRecord, kickRun, recordRun, runStub } from './start-run';

interface ScheduledRow {
  id: string;
  key: string;
  tenant_id: string;
  slug: string;
  version: number;
  definition: string;
}

export async function startDueSchedules(env: Env, scheduledTime: number): Promise<string[]> {
  const slot = Math.floor(scheduledTime / 60_000) * 60_000;
  const { results } = await env.DB.prepare(
    `SELECT w.id, w.key, w.tenant_id, t.slug, w.active_version AS version, v.definition
     FROM workflows w
     JOIN tenants t ON t.id = w.tenant_id
     JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.active_version AND v.tenant_id = w.tenant_id
     WHERE json_extract(v.definition, '$.trigger.type') = 'schedule'`,
  ).all<ScheduledRow>();
  const started: string[] = [];
  for (const row of results) {
    const def = JSON.parse(row.definition) as { trigger: { cron: string; payload?: unknown } };
    if (!cronMatches(def.trigger.cron, new Date(slot))) continue;
    const { runId, duplicate, init } = await recordRun(env, {
      tenant: { id: row.tenant_id, slug: row.slug },
      workflow: { id: row.id, key: row.key, version: row.version },
      definition: row.definition,
      triggerType: 'schedule',
      trigger: { body: def.trigger.payload ?? { scheduledAt: new Date(slot).toISOString() }, headers: {}, query: {} },
      triggerRef: new Date(slot).toISOString(),
      dedup: { kind: 'slot', slot },
    });
    if (!duplicate) {
      await kickRun(env, init);
      started.push(runId);
    }
  }
  return started;
}

/**
 * Recovery: a run still `queued` after 30 s was acknowledged but its object never
 * started (the isolate died in between): start it from its D1 record. A run `running`
 * with no D1 update for 5 minutes gets a nudge, so lost queue messages are re-sent and
 * a missed flush is written.
 */
export async function sweepRuns(env: Env, now = Date.now()): Promise<{ started: number; nudged: number }> {
  const db = createDb(env.DB);
  let started = 0;
  let nudged = 0;
  for (const run of await suspectRuns(db, now)) {
    try {
      if (run.status === 'queued') {
        const init = await initFromRecord(db, run.tenantId, run.id);
        if (init) {
          await kickRun(env, init);
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
