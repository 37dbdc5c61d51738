/** Publish check: every action step names a connector and action that exist. */
import { getConnector } from '../../../connectors';
import type { FieldIssue } from '../errors';
import type { Workflow } from './workflow-file';

export function connectorReferencesCheck() {
  return async (_db: unknown, _tenantId: string, wf: Workflow): Promise<FieldIssue[]> => {
    const issues: FieldIssue[] = [];
    wf.steps.forEach((step, i) => {
      if (step.type !== 'action') return;
      const connector = getConnector(step.connector);
      if (!connector) {
        issues.push({
          path: `steps[${i}].connector`,
          message: `step "${step.id}": no connector "${step.connector}" (GET /api/connectors lists them)`,
        });
      } else if (!Object.hasOwn(connector.actions, step.action)) {
        const known = Object.keys(connector.actions).join(', ');
        issues.push({
          path: `steps[${i}].action`,
          message: `step "${step.id}": connector "${step.connector}" has no action "${step.action}" (it has: ${known})`,
        });
      }
    });
    return issues;
  };
}
