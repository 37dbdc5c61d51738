/** What a run object sends its tenant's run index, and what the index answers. */
import type { AuditItem } from '../run/run-state';

export type IndexRunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** A run's summary row: what the Explorer lists and filters on. */
export interface IndexRun {
  id: string;
  tenantId: string;
  workflowId: string;
  workflowKey: string;
  version: number;
  status: IndexRunStatus;
  triggerType: string;
  triggerRef: string | null;
  error: { message: string; stepId?: string } | null;
  retryOf: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** An attempt is queued or running: the sweeper checks such runs sooner. */
  inFlight: boolean;
}

/** A step's summary: what the dashboard's step timings need (details stay in the run's object). */
export interface IndexStep {
  stepId: string;
  type: string;
  status: string;
  attempts: number;
  seq: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** One flush of a run: its summary, the steps changed since the last one, new engine audit entries. */
export interface IndexBatch {
  run: IndexRun;
  steps: IndexStep[];
  audit: AuditItem[];
}

/** A row of GET /api/runs. */
export interface RunSummary {
  id: string;
  workflow: string;
  version: number;
  status: IndexRunStatus;
  triggerType: string;
  error: { message: string; stepId?: string } | null;
  retryOf: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunPageQuery {
  status?: string;
  workflow?: string;
  cursor?: { createdAt: number; id: string };
  limit: number;
}

/** The engine's audit entries as GET /api/audit lists them (the same shape as D1's audit_log rows). */
export interface EngineAuditEntry {
  id: string;
  at: number;
  actorType: 'system';
  actorId: null;
  actorLabel: 'engine';
  action: string;
  targetType: 'workflow';
  targetId: string;
  runId: string;
  context: Record<string, unknown> | null;
  ip: null;
  requestId: null;
}

export interface EngineAuditQuery {
  run?: string;
  action?: string;
  actor?: string;
  since?: number;
  before?: number;
  cursor?: { at: number; id: string };
  limit: number;
}

/** Raw aggregates for the dashboard (stats/run-stats.ts shapes them). */
export interface IndexOverview {
  perHour: { hour: number; total: number; succeeded: number; failed: number }[];
  slowest: { workflow: string; step: string; count: number; avgMs: number; p95Ms: number; maxMs: number }[];
  failures: {
    id: string;
    workflow: string;
    version: number;
    error: string | null;
    createdAt: number;
    finishedAt: number | null;
  }[];
}

/**
 * A run recorded in D1 before the run index, as the minute cron carries it into its
 * tenant's index (run/legacy-import.ts). JSON columns travel as the text D1 stored, so
 * nothing is parsed twice and RPC typing sees plain strings.
 */
export interface LegacyRun {
  run: Omit<IndexRun, 'tenantId' | 'error'> & {
    /** `{message, stepId?}` as JSON text, or null. */
    error: string | null;
    updatedAt: number;
  };
  /** The trigger event `{body, headers, query}` as JSON text; null for runs recorded before D1 kept it. */
  trigger: string | null;
  steps: LegacyStep[];
  /** The run's `step.attempt` entries from D1's audit_log, with their ids (a repeated import adds nothing). */
  audit: { id: string; at: number; context: string | null }[];
}

/** A step as D1's run_steps recorded it; the JSON columns as text. */
export interface LegacyStep {
  stepId: string;
  type: string;
  status: string;
  attempts: number;
  seq: number;
  attemptLog: string | null;
  input: string | null;
  output: string | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What the index keeps of an imported run beyond its summary: the Explorer's detail for a run whose object holds no state. */
export interface LegacyRecord {
  run: RunSummary;
  trigger: string | null;
  steps: LegacyStep[];
}
