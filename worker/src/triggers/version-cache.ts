/**
 * Published workflow files, parsed once per isolate. A version's file never changes once
 * published (a new publish is a new version number; deleting a workflow deletes its id),
 * so an entry keyed by workflow id and version is never stale: which version is active is
 * read from D1 on every trigger, so a publish or activate made in any isolate applies to
 * the very next one.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { workflowVersions } from '../db/schema';
import { Trigger } from '../workflows/workflow-file';

export interface CachedVersion {
  /** The file as parsed JSON; undefined when the stored text is not JSON. */
  definition: unknown;
  /** Its trigger, parsed on first use (null: it does not parse). */
  trigger?: Trigger | null;
}

const MAX_ENTRIES = 500;
const versions = new Map<string, CachedVersion>();

/** The file of `version` of the workflow, or null if there is no such version. */
export async function versionFile(db: Db, workflowId: string, version: number): Promise<CachedVersion | null> {
  const key = `${workflowId}:${version}`;
  const hit = versions.get(key);
  if (hit) return hit;
  const row = await db
    .select({ definition: workflowVersions.definition })
    .from(workflowVersions)
    .where(and(eq(workflowVersions.workflowId, workflowId), eq(workflowVersions.version, version)))
    .get();
  if (!row) return null;
  const entry: CachedVersion = { definition: parseOrUndefined(row.definition) };
  if (versions.size >= MAX_ENTRIES) versions.clear();
  versions.set(key, entry);
  return entry;
}

/** The version's trigger, or null when its file does not have a valid one. */
export function triggerOf(entry: CachedVersion): Trigger | null {
  if (entry.trigger === undefined) {
    const parsed = Trigger.safeParse((entry.definition as { trigger?: unknown } | undefined)?.trigger);
    entry.trigger = parsed.success ? parsed.data : null;
  }
  return entry.trigger;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
