/**
 * Runs as D1 recorded them before the run index (migrations 0001 and 0003, the flush of
 * run-records.ts before 150a33e): rows planted straight into `runs`, `run_steps`,
 * `audit_log` (the engine's `step.attempt` entries) and `webhook_events`. Ids have the
 * shape `newId('run')` gave them, so the run's object can be named (and holds no state).
 */
import { env } from 'cloudflare:test';
import { newId } from '../../src/lib/crypto';

export interface LegacyStepPlant {
  id: string;
  type?: string;
  status: string;
  seq: number;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  /** Each attempt also becomes a `step.attempt` audit row. */
  attemptLog?: { n: number; attemptId: string; queuedAt: number; outcome?: string; error?: unknown }[];
  startedAt?: number;
  finishedAt?: number;
}

export interface LegacyRunPlant {
  id?: string;
  workflow: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  createdAt: number;
  error?: { message: string; stepId?: string };
  /** `undefined`: a webhook event; `null`: none recorded (runs before migration 0003). */
  trigger?: unknown;
  steps?: LegacyStepPlant[];
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** Plants one legacy run of the tenant's workflow; returns its id. */
export async function plantLegacyRun(tenantId: string, p: LegacyRunPlant): Promise<string> {
  const wf = await env.DB.prepare('SELECT id FROM workflows WHERE tenant_id = ? AND key = ?')
    .bind(tenantId, p.workflow)
    .first<{ id: string }>();
  if (!wf) throw new Error(`no workflow ${p.workflow}`);
  const id = p.id ?? newId('run');
  const finished = p.status === 'succeeded' || p.status === 'failed';
  const trigger =
    p.trigger === undefined
      ? { body: { order: id }, headers: { 'content-type': 'application/json' }, query: {} }
      : p.trigger;
  const statements = [
    env.DB.prepare(
      `INSERT INTO runs (id, tenant_id, workflow_id, workflow_key, version, status, trigger_type, trigger_ref, trigger,
                         error, created_at, started_at, finished_at, updated_at)
       VALUES (?, ?, ?, ?, 1, ?, 'webhook', ?, ?, ?, ?, ?, ?, ?)`,
    ).bind(
      id,
      tenantId,
      wf.id,
      p.workflow,
      p.status,
      `dlv_${id}`,
      json(trigger),
      json(p.error),
      p.createdAt,
      p.createdAt + 1,
      finished ? p.createdAt + 50 : null,
      p.createdAt + 50,
    ),
    env.DB.prepare(
      `INSERT INTO webhook_events (id, tenant_id, workflow_id, delivery_id, run_id, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ).bind(newId('evt'), tenantId, wf.id, `dlv_${id}`, id, p.createdAt),
  ];
  for (const s of p.steps ?? []) {
    statements.push(
      env.DB.prepare(
        `INSERT INTO run_steps (tenant_id, run_id, step_id, type, status, attempts, attempt_log, input, output, error,
                                started_at, finished_at, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).bind(
        tenantId,
        id,
        s.id,
        s.type ?? 'action',
        s.status,
        s.attemptLog?.length ?? 1,
        json(s.attemptLog),
        json(s.input),
        json(s.output),
        json(s.error),
        s.startedAt ?? null,
        s.finishedAt ?? null,
        s.seq,
      ),
    );
    for (const a of s.attemptLog ?? [])
      statements.push(
        env.DB.prepare(
          `INSERT INTO audit_log (id, tenant_id, at, actor_type, actor_label, action, target_type, target_id, run_id, context)
           VALUES (?, ?, ?, 'system', 'engine', 'step.attempt', 'workflow', ?, ?, ?)`,
        ).bind(
          newId('aud'),
          tenantId,
          a.queuedAt,
          p.workflow,
          id,
          JSON.stringify({ stepId: s.id, attempt: a.n, outcome: a.outcome ?? 'succeeded' }),
        ),
      );
  }
  await env.DB.batch(statements);
  return id;
}

/** `SELECT count(*) AS n ...` in D1. */
export const d1Count = async (sql: string, ...params: unknown[]) =>
  Number(
    (
      await env.DB.prepare(sql)
        .bind(...params)
        .first<{ n: number }>()
    )?.n ?? -1,
  );

/** How many rows D1 still holds of these legacy runs, in every table the import empties (governance entries stay). */
export async function legacyRowsLeft(ids: string[]): Promise<number> {
  const inIds = 'IN (SELECT value FROM json_each(?))';
  let n = 0;
  for (const sql of [
    `SELECT count(*) AS n FROM runs WHERE id ${inIds}`,
    `SELECT count(*) AS n FROM run_steps WHERE run_id ${inIds}`,
    `SELECT count(*) AS n FROM audit_log WHERE action = 'step.attempt' AND run_id ${inIds}`,
    `SELECT count(*) AS n FROM webhook_events WHERE run_id ${inIds}`,
  ])
    n += await d1Count(sql, JSON.stringify(ids));
  return n;
}
