/**
 * What a run needs to start, checked before its run object is asked to take it (and so
 * before its trigger is acknowledged): a version file the object can parse, and an event
 * it can record. A run that passes these is one its object can always start.
 */
import { AppError, type FieldIssue, zodIssues } from '../errors';
import { depthIssue, MAX_TRIGGER_BYTES, utf8Bytes } from '../lib/json-limits';
import { PublishedWorkflow } from '../workflows/workflow-file';

/** Versions already known to parse, per isolate: a version never changes, so once is enough. */
const runnableVersions = new Set<string>();
const MAX_REMEMBERED_VERSIONS = 1000;

/** Problems of a workflow version's file that would stop its run object from taking it. */
export function definitionIssues(workflow: { id: string; version: number }, definition: unknown): FieldIssue[] {
  const cacheKey = `${workflow.id}:${workflow.version}`;
  if (runnableVersions.has(cacheKey)) return [];
  if (definition === undefined) return [{ path: '(root)', message: 'the stored file is not valid JSON' }];
  // What the run object parses (run-state.ts), not the authoring rules added since it was published.
  const parsed = PublishedWorkflow.safeParse(definition);
  if (!parsed.success) return zodIssues(parsed.error);
  if (runnableVersions.size >= MAX_REMEMBERED_VERSIONS) runnableVersions.clear();
  runnableVersions.add(cacheKey);
  return [];
}

/** The version cannot run: `version_not_runnable` naming its first problem, so the caller can publish a fix and send again. */
export function unrunnableVersion(key: string, version: number, issues: FieldIssue[]): AppError {
  const first = issues[0];
  return new AppError(
    'version_not_runnable',
    `Version ${version} of workflow "${key}" cannot run (${first.path}: ${first.message}); publish a fixed version`,
    { details: issues },
  );
}

/** The trigger event as recorded; refuses one nested too deep or too large to record. */
export function serializeTrigger(trigger: unknown): string {
  const deep = depthIssue((trigger as { body?: unknown }).body, ['body']);
  if (deep) throw new AppError('invalid_request', `Trigger ${deep.path}: ${deep.message}`, { details: [deep] });
  const json = JSON.stringify(trigger);
  const bytes = utf8Bytes(json);
  if (bytes > MAX_TRIGGER_BYTES)
    throw new AppError(
      'payload_too_large',
      `The trigger event is ${bytes} bytes as recorded (body, headers and query as JSON); at most ${MAX_TRIGGER_BYTES}`,
      { details: [{ path: 'body', message: `at most ${MAX_TRIGGER_BYTES} bytes as recorded` }] },
    );
  return json;
}

/**
 * An error thrown by the run object's own code (a definition or trigger it refuses),
 * as opposed to the platform failing to reach it (`retryable`, `overloaded`, or not
 * `remote`), which the trigger's sender tries again after a 503.
 */
export function isPermanentStartError(e: unknown): boolean {
  const err = e as { remote?: boolean; retryable?: boolean; overloaded?: boolean } | null;
  return !!err && err.remote === true && err.retryable !== true && err.overloaded !== true;
}
