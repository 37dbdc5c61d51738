/**
 * Typed client for the Automate API (same origin, session cookie). Every failure becomes an
 * `ApiError` carrying the server's `{error: {code, message, requestId, details?}}`, so pages
 * can show the user what went wrong and which request to quote.
 */

export interface FieldIssue {
  path: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: FieldIssue[] };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId?: string;
  readonly details?: FieldIssue[];

  constructor(status: number, code: string, message: string, opts: { requestId?: string; details?: FieldIssue[] } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = opts.requestId;
    this.details = opts.details;
  }
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
}

export type Role = 'owner' | 'admin' | 'editor' | 'viewer' | (string & {});

export interface Me {
  tenant: Tenant;
  user?: { id: string; email: string; role: Role };
  token?: { id: string; name: string; scopes: string[] };
}

export interface WorkflowSummary {
  key: string;
  name: string;
  /** The version runs use; null while the workflow has only a draft. */
  activeVersion: number | null;
  hookId: string;
  createdAt: number;
  updatedAt: number;
}

export interface SignupInput {
  tenant: string;
  email: string;
  password: string;
}

export interface LoginInput {
  email: string;
  password: string;
}

type Fetch = typeof fetch;

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as ErrorBody | null)?.error;
  return typeof error?.code === 'string' && typeof error?.message === 'string';
}

async function request<T>(method: string, path: string, body?: unknown, fetchImpl: Fetch = fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(`/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (cause) {
    throw new ApiError(0, 'NETWORK_ERROR', `Could not reach the server (${(cause as Error).message})`);
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    if (isErrorBody(data)) {
      const { code, message, requestId, details } = data.error;
      throw new ApiError(res.status, code, message, { requestId, details });
    }
    throw new ApiError(res.status, 'HTTP_ERROR', `The server answered ${res.status} ${res.statusText}`.trim());
  }
  return data as T;
}

export const api = {
  /** The signed-in identity, or null when there is no session. */
  async me(fetchImpl?: Fetch): Promise<Me | null> {
    try {
      return await request<Me>('GET', '/auth/me', undefined, fetchImpl);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },
  signup: (input: SignupInput) => request<Me>('POST', '/auth/signup', input),
  login: (input: LoginInput) => request<Me>('POST', '/auth/login', input),
  logout: () => request<{ ok: boolean }>('POST', '/auth/logout'),
  listWorkflows: async (fetchImpl?: Fetch) => (await request<{ workflows: WorkflowSummary[] }>('GET', '/workflows', undefined, fetchImpl)).workflows,
};

/** A plain, serialisable view of any error, for load functions and error notices. */
export function describeError(err: unknown): { message: string; code?: string; requestId?: string; details?: FieldIssue[] } {
  if (err instanceof ApiError) return { message: err.message, code: err.code, requestId: err.requestId, details: err.details };
  return { message: err instanceof Error ? err.message : String(err) };
}
