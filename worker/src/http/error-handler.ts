/**
 * The single error answer, `{"error": {"code", "message", "requestId", "details?"}}`, and
 * the one place where error codes become HTTP statuses (docs/errors.md lists both).
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from '../context';
import { AppError, type ErrorCode } from '../errors';

export const HTTP_STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  invalid_request: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  rate_limited: 429,
  route_not_found: 404,
  unauthorized: 401,
  invalid_credentials: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  email_not_verified: 403,
  invalid_link: 400,
  mfa_enrollment_required: 403,
  invalid_mfa_code: 401,
  mfa_challenge_invalid: 401,
  sso_required: 403,
  sso_state_invalid: 400,
  workflow_not_found: 404,
  version_not_found: 404,
  run_not_found: 404,
  secret_not_found: 404,
  token_not_found: 404,
  webhook_not_found: 404,
  member_not_found: 404,
  invitation_not_found: 404,
  sso_not_configured: 404,
  invalid_workflow: 400,
  hardcoded_credential: 400,
  invalid_rule: 400,
  workflow_not_published: 409,
  trigger_mismatch: 409,
  run_not_retryable: 409,
  legacy_run_not_retryable: 409,
  version_not_runnable: 409,
  workflow_runs_in_flight: 409,
  email_taken: 409,
  last_owner: 409,
  mfa_already_enabled: 409,
  mfa_not_enabled: 409,
  mfa_required_by_tenant: 409,
  secret_in_use: 409,
  concurrent_modification: 409,
  sso_domain_taken: 409,
  sso_discovery_failed: 400,
  invalid_signature: 401,
  signing_secret_unavailable: 503,
  run_start_unavailable: 503,
  secrets_not_configured: 503,
  internal_error: 500,
};

/** Hono's own refusals (malformed JSON, wrong content type) in our codes. */
const CODE_OF_HTTP_EXCEPTION: Record<number, ErrorCode> = {
  400: 'invalid_request',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export function errorResponse(c: Context<AppEnv>, err: AppError) {
  const body = {
    error: {
      code: err.code,
      message: err.message,
      requestId: c.get('requestId'),
      ...(err.details?.length ? { details: err.details } : {}),
    },
  };
  const headers = err.retryAfterSeconds !== undefined ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined;
  return c.json(body, HTTP_STATUS[err.code], headers);
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof AppError) return errorResponse(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    const code = CODE_OF_HTTP_EXCEPTION[err.status] ?? 'invalid_request';
    return errorResponse(c, new AppError(code, err.message || code));
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
  return errorResponse(c, new AppError('internal_error', 'Internal error; quote the requestId when reporting it'));
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  errorResponse(c, new AppError('route_not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`));
