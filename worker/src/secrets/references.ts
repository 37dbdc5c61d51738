/** Where workflows refer to secrets: for the list's "used by", delete refusal and publish checks. */
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client';
import { workflows, workflowVersions } from '../db/schema';
import { formatPath } from '../errors';

export type Backend = 'stored' | 'env';

export interface SecretReference {
  key: string;
  backend: Backend;
  /** JSON path of the reference, e.g. `steps[1].secrets.API_KEY` or `trigger.verify.secret`. */
  field: string;
  /** Id of the step holding it; null for the trigger. */
  step: string | null;
}

function isRef(v: unknown): v is { $secret: string; backend?: unknown } {
  return !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { $secret?: unknown }).$secret === 'string';
}

/**
 * Every `{"$secret": ...}` in a workflow file, wherever it sits (trigger.verify.secret and
 * step secrets today; anything a later schema adds is found without changes here).
 */
export function findSecretReferences(file: unknown): SecretReference[] {
  const out: SecretReference[] = [];
  const steps = (file as { steps?: unknown })?.steps;
  const stepIdAt = (i: number) => {
    const s = Array.isArray(steps) ? (steps[i] as { id?: unknown }) : undefined;
    return typeof s?.id === 'string' ? s.id : `#${i}`;
  };
  const walk = (value: unknown, path: (string | number)[]) => {
    if (isRef(value)) {
      const step = path[0] === 'steps' && typeof path[1] === 'number' ? stepIdAt(path[1]) : null;
      out.push({
        key: value.$secret,
        backend: value.backend === 'env' ? 'env' : 'stored',
        field: formatPath(path),
        step,
      });
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, i]);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (path.length === 0 && k === 'ui') continue; // layout only
        walk(v, [...path, k]);
      }
    }
  };
  walk(file, []);
  return out;
}

export interface SecretUsage extends SecretReference {
  workflow: string;
  /** The active version's number, or `draft`. */
  version: number | 'draft';
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * References in every workflow's draft and active version. Inactive versions are left
 * out: they run only once re-activated, and activation is where to check them.
 */
export async function listSecretUsage(db: Db, tenantId: string): Promise<SecretUsage[]> {
  const [drafts, actives] = await Promise.all([
    db.select({ key: workflows.key, draft: workflows.draft }).from(workflows).where(eq(workflows.tenantId, tenantId)),
    db
      .select({ key: workflows.key, version: workflowVersions.version, definition: workflowVersions.definition })
      .from(workflows)
      .innerJoin(
        workflowVersions,
        and(
          eq(workflowVersions.workflowId, workflows.id),
          eq(workflowVersions.tenantId, workflows.tenantId),
          eq(workflowVersions.version, workflows.activeVersion),
        ),
      )
      .where(and(eq(workflows.tenantId, tenantId), isNotNull(workflows.activeVersion))),
  ]);
  const usage: SecretUsage[] = [];
  for (const a of actives)
    for (const r of findSecretReferences(parse(a.definition)))
      usage.push({ ...r, workflow: a.key, version: a.version });
  for (const d of drafts)
    for (const r of findSecretReferences(parse(d.draft))) usage.push({ ...r, workflow: d.key, version: 'draft' });
  return usage.sort(
    (a, b) => a.workflow.localeCompare(b.workflow) || (a.version === 'draft' ? 1 : 0) - (b.version === 'draft' ? 1 : 0),
  );
}
