/**
 * Steps no path from the first step reaches: such a step never runs, which is almost always
 * a link the author forgot to draw. Reported by `POST /api/workflows/validate` (so the
 * studio's editor shows it on the node and keeps Publish disabled), but neither import,
 * save nor publish refuses it (publish-checks.ts says why).
 */
import type { FieldIssue } from '../errors';
import { unreachableSteps } from './step-graph';
import type { Workflow } from './workflow-file';

export function reachabilityCheck() {
  return async (_db: unknown, _tenantId: string, wf: Workflow): Promise<FieldIssue[]> =>
    unreachableSteps(wf.steps).map((i) => ({
      path: `steps[${i}]`,
      message: `step "${wf.steps[i].id}": no path from the first step reaches it; link it from another step or delete it`,
    }));
}
