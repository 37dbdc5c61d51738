/**
 * The dashboard's numbers, aggregated in D1 so neither the Worker nor the browser ever
 * holds more than one row per hour, per slow step or per listed failure. Every query is
 * bounded by (tenant_id, created_at) and served by the runs table's tenant indexes.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';

export const HOUR_MS = 3_600_000;
// Inlined, not bound: D1 binds JS numbers as REAL, which would make the bucket division fractional.
const HOUR_SQL = sql.raw(String(HOUR_MS));

export interface HourBucket {
  /** Start of the hour, epoch ms. */
  hour: number;
  total: number;
  succeeded: number;
  failed: number;
  /** Failed share of the runs that finished, 0..1; null when none finished. */
  failureRate: number | null;
}

export interface SlowStep {
  workflow: string;
  step: string;
  count: number;
  avgMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface RecentFailure {
  id: string;
  workflow: string;
  version: number;
  error: { message?: string; stepId?: string } | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface Overview {
  since: number;
  until: number;
  totals: { runs: number; succeeded: number; failed: number; failureRate: number | null };
  hours: HourBucket[];
  slowestSteps: SlowStep[];
  latestFailures: RecentFailure[];
}

const rate = (failed: number, succeeded: number) => (failed + succeeded > 0 ? failed / (failed + succeeded) : null);

export const runsPerHourSql = (tenantId: string, since: number) => sql`
  SELECT (created_at / ${HOUR_SQL}) * ${HOUR_SQL} AS hour,
         count(*) AS total,
         sum(status = 'succeeded') AS succeeded,
         sum(status = 'failed') AS failed
  FROM runs
  WHERE tenant_id = ${tenantId} AND created_at >= ${since}
  GROUP BY hour
  ORDER BY hour`;

/**
 * p95 by nearest rank: the ceil(0.95 n)-th shortest duration of each workflow step.
 * Delay steps wait on purpose and are left out; retries include their backoff, which is
 * what a user waited.
 */
export const slowestStepsSql = (tenantId: string, since: number) => sql`
  WITH durations AS (
    SELECT r.workflow_key AS workflow, s.step_id AS step, s.finished_at - s.started_at AS ms
    -- The window's runs by (tenant, created_at), then each run's steps by run id: CROSS JOIN
    -- keeps runs as the outer loop and INDEXED BY makes it the time index. Left to itself
    -- (D1 keeps no ANALYZE statistics) the planner walked every step, or every run, the
    -- tenant ever had.
    FROM runs r INDEXED BY runs_tenant_created_idx
    CROSS JOIN run_steps s ON s.run_id = r.id AND s.tenant_id = r.tenant_id
    WHERE r.tenant_id = ${tenantId} AND r.created_at >= ${since}
      AND s.type != 'delay' AND s.status IN ('succeeded', 'failed')
      AND s.started_at IS NOT NULL AND s.finished_at IS NOT NULL
  ),
  ranked AS (
    SELECT workflow, step, ms,
           row_number() OVER (PARTITION BY workflow, step ORDER BY ms) AS rank,
           count(*) OVER (PARTITION BY workflow, step) AS n
    FROM durations
  )
  SELECT workflow, step, n AS count,
         CAST(round(avg(ms)) AS INTEGER) AS avgMs,
         max(CASE WHEN rank = (n * 95 + 99) / 100 THEN ms END) AS p95Ms,
         max(ms) AS maxMs
  FROM ranked
  GROUP BY workflow, step
  ORDER BY p95Ms DESC, avgMs DESC
  LIMIT 10`;

export const latestFailuresSql = (tenantId: string, since: number) => sql`
  SELECT id, workflow_key AS workflow, version, error, created_at AS createdAt, finished_at AS finishedAt
  FROM runs
  WHERE tenant_id = ${tenantId} AND status = 'failed' AND created_at >= ${since}
  ORDER BY created_at DESC
  LIMIT 10`;

/** The last `hours` hours including the current one, aligned to whole hours. */
export async function overview(db: Db, tenantId: string, hours: number, now = Date.now()): Promise<Overview> {
  const since = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;

  // Three reads, run concurrently; each is one indexed range of the tenant's runs.
  const [perHour, slowest, failures] = await Promise.all([
    db.all<{ hour: number; total: number; succeeded: number; failed: number }>(runsPerHourSql(tenantId, since)),
    db.all<SlowStep>(slowestStepsSql(tenantId, since)),
    db.all<{
      id: string;
      workflow: string;
      version: number;
      error: string | null;
      createdAt: number;
      finishedAt: number | null;
    }>(latestFailuresSql(tenantId, since)),
  ]);

  const byHour = new Map(perHour.map((b) => [Number(b.hour), b]));
  const buckets: HourBucket[] = [];
  for (let hour = since; hour <= now; hour += HOUR_MS) {
    const b = byHour.get(hour);
    const succeeded = Number(b?.succeeded ?? 0);
    const failed = Number(b?.failed ?? 0);
    buckets.push({ hour, total: Number(b?.total ?? 0), succeeded, failed, failureRate: rate(failed, succeeded) });
  }
  const succeeded = buckets.reduce((n, b) => n + b.succeeded, 0);
  const failed = buckets.reduce((n, b) => n + b.failed, 0);
  return {
    since,
    until: now,
    totals: { runs: buckets.reduce((n, b) => n + b.total, 0), succeeded, failed, failureRate: rate(failed, succeeded) },
    hours: buckets,
    slowestSteps: slowest.map((s) => ({
      ...s,
      count: Number(s.count),
      avgMs: Number(s.avgMs),
      p95Ms: Number(s.p95Ms),
      maxMs: Number(s.maxMs),
    })),
    latestFailures: failures.map((f) => ({ ...f, error: pickError(f.error) })),
  };
}

/** The run's error as the Explorer lists it: message and failed step only, never the stack. */
function pickError(raw: string | null): RecentFailure['error'] {
  if (!raw) return null;
  try {
    const e = JSON.parse(raw) as Record<string, unknown>;
    return {
      message: typeof e.message === 'string' ? e.message : undefined,
      stepId: typeof e.stepId === 'string' ? e.stepId : undefined,
    };
  } catch {
    return null;
  }
}
