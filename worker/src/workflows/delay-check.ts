/**
 * Publish check: a literal delay `until` is a date a run can wait for, an ISO 8601 date
 * at most 30 days ahead (the cap `delayMs` has). A templated one is checked when the
 * step runs (run-state.ts), with the same cap.
 */
import type { FieldIssue } from '../errors';
import { MAX_DELAY_MS, type Workflow } from './workflow-file';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Why a literal `until` cannot be waited for, or null. */
export function untilProblem(until: string, now: number): string | null {
  if (until.includes('{{')) return null;
  const at = Date.parse(until);
  // Date.parse takes more than ISO (and years past 9999 a runtime cannot hold): the pattern comes first.
  if (!ISO_DATE.test(until) || !Number.isFinite(at))
    return 'an ISO 8601 date, e.g. "2026-12-24T09:00:00Z", or a template';
  if (at - now > MAX_DELAY_MS) return 'at most 30 days ahead (the same cap as delayMs)';
  return null;
}

export function delayUntilCheck() {
  return async (_db: unknown, _tenantId: string, wf: Workflow): Promise<FieldIssue[]> => {
    const now = Date.now();
    const issues: FieldIssue[] = [];
    wf.steps.forEach((step, i) => {
      if (step.type !== 'delay' || step.until === undefined) return;
      const problem = untilProblem(step.until, now);
      if (problem) issues.push({ path: `steps[${i}].until`, message: `step "${step.id}": ${problem}` });
    });
    return issues;
  };
}
