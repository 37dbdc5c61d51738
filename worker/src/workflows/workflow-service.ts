/**
 * Workflow definitions: a mutable draft per key, immutable numbered versions, one
 * active version. Drafts are stored exactly as received so export returns the same file.
 */
import { depthIssue } from '../lib/json-limits';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { atomically } from '../db/batch';
import { workflows, workflowVersions } from '../db/schema';
import { AppError, type FieldIssue, validationError, zodIssues } from '../errors';
import { base64url, newId, randomBytes } from '../lib/crypto';
import { auditInsert } from '../audit/audit-log';
import type { Actor } from '../auth/principal';
import { findHardcodedCredentials } from './credential-scan';
import { Workflow } from './workflow-file';
import { scheduleIndexStatement } from './schedule-index';
import { schedulePreview } from './schedule-preview';

export interface RequestMeta {
  actor: Actor;
  ip: string | null;
  requestId: string;
}

export function refuseHardcodedCredentials(raw: unknown): void {
  const leaks: FieldIssue[] = findHardcodedCredentials(raw);
  if (leaks.length) throw validationError(leaks, 'Hard-coded credential refused', 'hardcoded_credential');
}

/**
 * Validates a stored workflow file (a draft or version about to go live): schema first, then
 * hard-coded credentials. Request bodies are validated by their route's schema instead.
 */
export function parseWorkflowFile(raw: unknown): Workflow {
  // A stored file may predate the nesting limit: refuse it before any check walks it.
  const deep = depthIssue(raw);
  if (deep) throw validationError([deep], 'Invalid workflow file', 'invalid_workflow');
  const parsed = Workflow.safeParse(raw);
  if (!parsed.success) throw validationError(zodIssues(parsed.error), 'Invalid workflow file', 'invalid_workflow');
  refuseHardcodedCredentials(raw);
  return parsed.data;
}

export const newHookId = () => `hk_${base64url(randomBytes(24))}`;

async function findRow(db: Db, tenantId: string, key: string) {
  return db
    .select()
    .from(workflows)
    .where(and(eq(workflows.tenantId, tenantId), eq(workflows.key, key)))
    .get();
}

export async function requireWorkflow(db: Db, tenantId: string, key: string) {
  const row = await findRow(db, tenantId, key);
  if (!row) throw new AppError('workflow_not_found', `Workflow "${key}" not found`);
  return row;
}

/**
 * Creates the workflow or replaces its draft. `wf` is `raw` already validated against
 * the schema (by the route); `raw` is what gets stored, without zod's defaults.
 */
export async function saveDraft(
  db: Db,
  tenantId: string,
  raw: unknown,
  wf: Workflow,
  meta: RequestMeta,
  action: 'workflow.import' | 'workflow.save',
) {
  refuseHardcodedCredentials(raw);
  const draft = JSON.stringify(raw);
  const existing = await findRow(db, tenantId, wf.key);
  const now = Date.now();
  const audit = (id: string, created: boolean) =>
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action,
      targetType: 'workflow',
      targetId: wf.key,
      context: { workflowId: id, created },
      ip: meta.ip,
      requestId: meta.requestId,
    });
  if (existing) {
    await db.batch([
      db
        .update(workflows)
        .set({ draft, name: wf.name, updatedAt: now })
        .where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, existing.id))),
      audit(existing.id, false),
    ]);
    return { key: wf.key, created: false, workflow: wf };
  }
  const id = newId('wf');
  try {
    await db.batch([
      db.insert(workflows).values({
        id,
        tenantId,
        key: wf.key,
        name: wf.name,
        draft,
        hookId: newHookId(),
        createdAt: now,
        updatedAt: now,
      }),
      audit(id, true),
    ]);
  } catch (e) {
    if (String(e).includes('UNIQUE'))
      throw new AppError('concurrent_modification', `Workflow "${wf.key}" was created concurrently; retry`, {
        cause: e,
      });
    throw e;
  }
  return { key: wf.key, created: true, workflow: wf };
}

export async function listWorkflows(db: Db, tenantId: string) {
  return db
    .select({
      key: workflows.key,
      name: workflows.name,
      activeVersion: workflows.activeVersion,
      hookId: workflows.hookId,
      createdAt: workflows.createdAt,
      updatedAt: workflows.updatedAt,
    })
    .from(workflows)
    .where(eq(workflows.tenantId, tenantId))
    .orderBy(workflows.key);
}

export async function getVersion(db: Db, tenantId: string, workflowId: string, version: number) {
  return db
    .select()
    .from(workflowVersions)
    .where(
      and(
        eq(workflowVersions.tenantId, tenantId),
        eq(workflowVersions.workflowId, workflowId),
        eq(workflowVersions.version, version),
      ),
    )
    .get();
}

export async function getWorkflowDetail(db: Db, tenantId: string, key: string) {
  const row = await requireWorkflow(db, tenantId, key);
  const activeRow = row.activeVersion ? await getVersion(db, tenantId, row.id, row.activeVersion) : undefined;
  const draft = JSON.parse(row.draft) as unknown;
  // Validated when published and kept verbatim (so fields with defaults may be absent).
  const active = activeRow ? (JSON.parse(activeRow.definition) as Workflow) : null;
  return {
    key: row.key,
    name: row.name,
    hookId: row.hookId,
    draft,
    activeVersion: row.activeVersion,
    active,
    schedule: { active: schedulePreview(active), draft: schedulePreview(draft) },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Every problem the draft has, without saving it: the schema's, hard-coded credentials and
 * (once the schema passes) the publish checks. What the studio shows as you edit, so that
 * the first word about a problem is not a refused publish.
 */
export async function workflowProblems(
  db: Db,
  tenantId: string,
  raw: unknown,
  checks: PublishCheck[],
): Promise<FieldIssue[]> {
  const parsed = Workflow.safeParse(raw);
  const credentials = findHardcodedCredentials(raw);
  if (!parsed.success) return [...zodIssues(parsed.error), ...credentials];
  const found = await Promise.all(checks.map((check) => check(db, tenantId, parsed.data)));
  return [...credentials, ...found.flat()];
}

/** Extra checks a publish must pass (the secrets module adds "every referenced secret exists"). */
export type PublishCheck = (db: Db, tenantId: string, wf: Workflow) => Promise<FieldIssue[]>;

export async function assertPublishable(db: Db, tenantId: string, wf: Workflow, checks: PublishCheck[]) {
  const issues = (await Promise.all(checks.map((check) => check(db, tenantId, wf)))).flat();
  if (issues.length) throw validationError(issues, 'Cannot publish', 'invalid_workflow');
}

/**
 * Publishes the draft as a new immutable version and makes it active. A draft identical
 * to the latest version publishes nothing new: re-running `automate import --publish`
 * from CI is idempotent.
 */
export async function publish(db: Db, tenantId: string, key: string, meta: RequestMeta, checks: PublishCheck[] = []) {
  const row = await requireWorkflow(db, tenantId, key);
  const wf = parseWorkflowFile(JSON.parse(row.draft));
  await assertPublishable(db, tenantId, wf, checks);

  const latest = await db
    .select({ version: workflowVersions.version, definition: workflowVersions.definition })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.tenantId, tenantId), eq(workflowVersions.workflowId, row.id)))
    .orderBy(desc(workflowVersions.version))
    .limit(1)
    .get();
  if (latest && latest.definition === row.draft && row.activeVersion === latest.version) {
    return { version: latest.version, unchanged: true };
  }
  const id = newId('wfv');
  // Version numbering happens inside the batch (one transaction), so concurrent
  // publishes get distinct numbers rather than a lost update.
  await atomically(db, [
    {
      sql: `INSERT INTO workflow_versions (id, tenant_id, workflow_id, version, definition, created_by, created_at)
        SELECT ?, ?, ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM workflow_versions WHERE workflow_id = ? AND tenant_id = ?`,
      params: [id, tenantId, row.id, row.draft, meta.actor.id ?? 'system', Date.now(), row.id, tenantId],
    },
    db
      .update(workflows)
      .set({ activeVersion: sql`(SELECT version FROM workflow_versions WHERE id = ${id})`, updatedAt: Date.now() })
      .where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, row.id))),
    scheduleIndexStatement(
      db,
      { tenantId, workflowId: row.id, version: sql`(SELECT version FROM workflow_versions WHERE id = ${id})` },
      wf.trigger,
    ),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'workflow.publish',
      targetType: 'workflow',
      targetId: key,
      context: { versionId: id },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  const created = await db
    .select({ version: workflowVersions.version })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.tenantId, tenantId), eq(workflowVersions.id, id)))
    .get();
  return { version: created!.version, unchanged: false };
}

export async function listVersions(db: Db, tenantId: string, key: string) {
  const row = await requireWorkflow(db, tenantId, key);
  const versions = await db
    .select({
      version: workflowVersions.version,
      createdBy: workflowVersions.createdBy,
      createdAt: workflowVersions.createdAt,
    })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.tenantId, tenantId), eq(workflowVersions.workflowId, row.id)))
    .orderBy(desc(workflowVersions.version));
  return versions.map((v) => ({ ...v, active: v.version === row.activeVersion }));
}

/** Roll back (or forward): make an existing version the active one. */
export async function activateVersion(
  db: Db,
  tenantId: string,
  key: string,
  version: number,
  meta: RequestMeta,
  checks: PublishCheck[] = [],
) {
  const row = await requireWorkflow(db, tenantId, key);
  const v = await getVersion(db, tenantId, row.id, version);
  if (!v) throw new AppError('version_not_found', `Version ${version} of workflow "${key}" not found`);
  // An old version may use a secret deleted since: refuse now rather than fail every run.
  const wf = parseWorkflowFile(JSON.parse(v.definition));
  await assertPublishable(db, tenantId, wf, checks);
  await db.batch([
    db
      .update(workflows)
      .set({ activeVersion: version, updatedAt: Date.now() })
      .where(and(eq(workflows.tenantId, tenantId), eq(workflows.id, row.id))),
    scheduleIndexStatement(db, { tenantId, workflowId: row.id, version }, wf.trigger),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'workflow.activate',
      targetType: 'workflow',
      targetId: key,
      context: { version, previous: row.activeVersion },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return { version };
}

/** The file for a version (or the draft): byte-for-byte what was imported, so it re-imports unchanged. */
export async function exportWorkflow(db: Db, tenantId: string, key: string, version?: number): Promise<string> {
  const row = await requireWorkflow(db, tenantId, key);
  if (version === undefined) return row.draft;
  const v = await getVersion(db, tenantId, row.id, version);
  if (!v) throw new AppError('version_not_found', `Version ${version} of workflow "${key}" not found`);
  return v.definition;
}
