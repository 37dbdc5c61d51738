/**
 * The dashboard's numbers, aggregated by SQL in the tenant's run index (run-index/), so
 * neither the Worker nor the browser ever holds more than one row per hour, per slow step
 * or per listed failure. Every query is one range of the index's runs by created_at.
 */
import type { Env } from '../env';
import { runIndex } from '../run-index/run-index-stub';

export const HOUR_MS = 3_600_000;

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

/** The last `hours` hours including the current one, aligned to whole hours. */
export async function overview(env: Env, tenantId: string, hours: number, now = Date.now()): Promise<Overview> {
  const since = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;

  // One request: three indexed reads of the window's runs in the index's SQLite.
  const { perHour, slowest, failures } = await runIndex(env, tenantId).overview(since);

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
