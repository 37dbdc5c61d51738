/**
 * GET /api/runs/{id} for a run recorded in D1 before the run index whose object holds no
 * usable state: its detail from the record imported with it (legacy-import.ts), in the same
 * shape as a run object's. Inputs and outputs were capped as the Explorer shows them when
 * imported; the JSON columns are parsed here, in the Worker, not in the index.
 */
import type { LegacyRecord } from '../run-index/index-types';
import type { AttemptLog, StepStatus } from './run-state';
import type { StepError } from './step-message';

type TriggerEvent = { body: unknown; headers: Record<string, string>; query: Record<string, string> };

export function legacyDetail(record: LegacyRecord) {
  return {
    ...record.run,
    trigger: triggerOf(record.trigger),
    steps: record.steps.map((s) => ({
      id: s.stepId,
      type: s.type,
      status: s.status as StepStatus,
      attempts: s.attempts,
      attemptLog: parsed<AttemptLog[]>(s.attemptLog) ?? [],
      input: parsed<unknown>(s.input),
      output: parsed<unknown>(s.output),
      error: parsed<StepError>(s.error),
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
    })),
  };
}

/** Runs recorded before D1 kept the event (migration 0003) have none; older events may lack headers or query. */
function triggerOf(text: string | null): TriggerEvent | null {
  const t = parsed<Partial<TriggerEvent>>(text);
  return t ? { body: t.body ?? null, headers: t.headers ?? {}, query: t.query ?? {} } : null;
}

function parsed<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}
