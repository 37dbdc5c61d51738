/**
 * The one client for the Automate API, used by the studio, the CLI, the e2e tests, the
 * benchmark and the worker tests. Paths, parameters, bodies and answers are typed by
 * api/schema.d.ts, which `npm run api:generate` writes from the server's own zod route
 * schemas, so a server change that breaks a caller breaks `npm run typecheck`.
 *
 * Plain TypeScript with erasable types only: Node 24 runs it as is (the CLI imports it).
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export type { components, paths } from './schema.d.ts';
/** Every named schema of the API: `Schemas['RunDetail']`, `Schemas['WorkflowFile']`, ... */
export type Schemas = components['schemas'];
export type ApiClient = Client<paths>;

/** The server's vocabularies, defined once in worker/src/auth/principal.ts. */
export { DEFAULT_TOKEN_SCOPES, ROLES, SCOPES, type Role, type Scope } from '../worker/src/auth/principal.ts';

/** `details[]` of an error: the JSON path of each bad field, e.g. `steps[1].retry.maxAttempts`. */
export type FieldIssue = NonNullable<Schemas['Error']['error']['details']>[number];
/** The server's error codes (docs/errors.md), plus the ones a client makes up without a server answer. */
export type ErrorCode = Schemas['Error']['error']['code'] | ClientErrorCode;
/** No answer at all; an answer that is not the API's error shape; an exception in the client itself. */
export type ClientErrorCode = 'network_error' | 'unexpected_response' | 'client_error';

export interface ClientOptions {
  /** Origin of the deployment, e.g. `http://127.0.0.1:8787`; `''` for the page's own origin. */
  baseUrl: string;
  /** A tenant API token (`atm_...`), sent as `Authorization: Bearer`. */
  token?: string;
  /**
   * `automate_session=...` for scripts acting as a signed-in user. Cookie-authenticated
   * writes must come from the deployment's own origin, so `Origin` is set to `baseUrl`.
   */
  cookie?: string;
  /** Another fetch: SvelteKit's load `fetch`, or the Worker's own handler in workerd tests. */
  fetch?: (request: Request) => Promise<Response>;
  /** Give up on a call after this long. */
  timeoutMs?: number;
  /** Extra RequestInit fields for every call (the studio sends `credentials: 'same-origin'`). */
  init?: Omit<RequestInit, 'body' | 'headers' | 'method' | 'signal'>;
}

export function createApiClient(options: ClientOptions): ApiClient {
  const origin = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) {
    headers.cookie = options.cookie;
    headers.origin = origin;
  }
  const client = createClient<paths>({
    ...options.init,
    baseUrl: `${origin}/api`,
    headers,
    fetch: options.fetch,
  });
  if (options.timeoutMs !== undefined) {
    const timeoutMs = options.timeoutMs;
    client.use({ onRequest: ({ request }) => new Request(request, { signal: AbortSignal.timeout(timeoutMs) }) });
  }
  return client;
}

/**
 * A failed call: the server's `{error: {code, message, requestId, details?}}` with the
 * HTTP status, or `network_error` (no answer) / `unexpected_response` (an answer that is not
 * the API's error shape, e.g. a proxy's 502 page).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly requestId?: string;
  readonly details?: FieldIssue[];

  constructor(
    status: number,
    code: ErrorCode,
    message: string,
    opts: { requestId?: string; details?: FieldIssue[]; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = opts.requestId;
    this.details = opts.details;
  }
}

function isErrorBody(value: unknown): value is Schemas['Error'] {
  const error = (value as Schemas['Error'] | null)?.error;
  return typeof error?.code === 'string' && typeof error?.message === 'string';
}

/** The ApiError for a non-2xx answer whose body openapi-fetch already read (`error`). */
export function toApiError(response: Response, error: unknown): ApiError {
  if (isErrorBody(error)) {
    const { code, message, requestId, details } = error.error;
    return new ApiError(response.status, code, message, { requestId, details });
  }
  return new ApiError(
    response.status,
    'unexpected_response',
    `The server answered ${response.status} ${response.statusText}`.trim(),
  );
}

/** Why a fetch got no answer: Node's `ECONNREFUSED` and the like, else the error's message. */
export function unreachableReason(cause: unknown): string {
  const err = cause as { message?: string; cause?: { code?: string; message?: string } } | undefined;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(cause);
}

/** The ApiError for a call that got no answer at all (refused, reset, timed out). */
export function networkError(cause: unknown, baseUrl?: string): ApiError {
  return new ApiError(0, 'network_error', `Could not reach ${baseUrl || 'the server'} (${unreachableReason(cause)})`, {
    cause,
  });
}

/**
 * Awaits an openapi-fetch call and returns its typed data, or throws an ApiError.
 *
 * @example
 * const { workflows } = await unwrap(client.GET('/workflows'));
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
  baseUrl?: string,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (cause) {
    throw networkError(cause, baseUrl);
  }
  if (!result.response.ok) throw toApiError(result.response, result.error);
  return result.data as T;
}
