/**
 * The one error class services, middleware and routes throw: a code from the closed list
 * (error-codes.ts, docs/errors.md), a public message and the fields at fault. It knows
 * nothing of HTTP: worker/src/http/error-handler.ts maps codes to statuses and writes
 * the wire shape. `cause` stays internal (logs only) and never carries a secret.
 */
import type { ZodError } from 'zod';
import type { ErrorCode } from './error-codes';

export type { ErrorCode } from './error-codes';

export interface FieldIssue {
  /** JSON path of the offending field, e.g. `steps[1].params.url`. */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  details?: FieldIssue[];
  cause?: unknown;
  /** When trying again may succeed: the client should wait this long first. */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: FieldIssue[];
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, opts: AppErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = opts.details;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** Formats a path array from zod as `a.b[2].c`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export function zodIssues(error: ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => {
    // zod reports an unknown key on its parent; name the key itself.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length === 1 ? [...prefix, ...issue.path, keys[0]] : [...prefix, ...issue.path];
    return { path: formatPath(path as (string | number)[]), message: issue.message };
  });
}

/** An error naming every bad field, its message led by the first: `Invalid body: steps[1].id: ... (+2 more)`. */
export function validationError(
  issues: FieldIssue[],
  what = 'Invalid request',
  code: ErrorCode = 'invalid_request',
): AppError {
  const first = issues[0];
  const message = first
    ? `${what}: ${first.path}: ${first.message}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`
    : what;
  return new AppError(code, message, { details: issues });
}
