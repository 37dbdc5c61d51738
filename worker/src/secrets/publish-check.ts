/**
 * Publish-time check: every secret a workflow refers to must be usable by this tenant
 * (a stored secret that exists; an env key granted and set), so a missing secret stops
 * the publish, naming step and field, instead of failing a run later.
 */
import type { Db } from '../db/client';
import type { Env } from '../env';
import type { FieldIssue } from '../errors';
import { describeTenant } from '../tenants/accounts';
import type { Workflow } from '../workflows/workflow-file';
import { type EnvGrants, envGrantProblem, envVarName, isEnvKeySet, parseEnvGrants } from './env-backend';
import { findSecretReferences } from './references';
import { SecretError } from './secret-error';
import { existingKeys } from './secret-store';

export function secretReferencesCheck(env: Env) {
  return async (db: Db, tenantId: string, wf: Workflow): Promise<FieldIssue[]> => {
    const refs = findSecretReferences(wf);
    if (!refs.length) return [];
    const where = (step: string | null) => (step ? `step "${step}": ` : 'trigger: ');
    const issues: FieldIssue[] = [];

    const stored = refs.filter((r) => r.backend === 'stored');
    const have = await existingKeys(db, tenantId, [...new Set(stored.map((r) => r.key))]);
    for (const r of stored) {
      if (!have.has(r.key))
        issues.push({
          path: r.field,
          message: `${where(r.step)}stored secret "${r.key}" does not exist; create it first (PUT /api/secrets/${r.key})`,
        });
    }

    const envRefs = refs.filter((r) => r.backend === 'env');
    if (envRefs.length) {
      const tenant = await describeTenant(db, tenantId);
      let grants: EnvGrants;
      try {
        grants = parseEnvGrants(env.AUTOMATE_ENV_GRANTS);
      } catch (e) {
        if (!(e instanceof SecretError)) throw e;
        return [...issues, ...envRefs.map((r) => ({ path: r.field, message: `${where(r.step)}${e.message}` }))];
      }
      for (const r of envRefs) {
        const problem = tenant ? envGrantProblem(grants, tenant.slug, r.key) : 'unknown tenant';
        if (problem) issues.push({ path: r.field, message: `${where(r.step)}${problem}` });
        else if (!isEnvKeySet(env, r.key))
          issues.push({
            path: r.field,
            message: `${where(r.step)}env key "${r.key}": the Worker variable ${envVarName(r.key)} is not set`,
          });
      }
    }
    return issues;
  };
}
