/** The single error answer: `{"error": {"code", "message", "requestId", "details?"}}`. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import type { AppEnv } from '../context';
import { ApiError, formatPath, type ErrorCode, type FieldIssue } from '../errors';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export function errorResponse(c: Context<AppEnv>, err: ApiError) {
  const body = {
    error: {
      code: err.code,
      message: err.message,
      requestId: c.get('requestId'),
      ...(err.details?.length ? { details: err.details } : {}),
    },
  };
  return c.json(body, err.status as ContentfulStatusCode, err.headers);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    const code = CODE_BY_STATUS[err.status] ?? (err.status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    return errorResponse(c, new ApiError(code, err.message || code));
  }
  // A bug: log the internal detail with the request id, answer nothing internal.
  console.error(
    JSON.stringify({
      level: 'error',
      requestId: c.get('requestId'),
      message: String(err),
      stack: (err as Error)?.stack,
    }),
  );
  return errorResponse(c, new ApiError('INTERNAL', 'Internal error; quote the requestId when reporting it'));
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new ApiError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));

export function zodIssues(error: ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => {
    // zod reports an unknown key on its parent; name the key itself.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length === 1 ? [...prefix, ...issue.path, keys[0]] : [...prefix, ...issue.path];
    return { path: formatPath(path as (string | number)[]), message: issue.message };
  });
}

export function validationError(issues: FieldIssue[], what = 'Invalid request'): ApiError {
  const first = issues[0];
  const message = first
    ? `${what}: ${first.path}: ${first.message}${issues.length > 1 ? ` (+${issues.length - 1} more)` : ''}`
    : what;
  return new ApiError('BAD_REQUEST', message, { details: issues });
}
