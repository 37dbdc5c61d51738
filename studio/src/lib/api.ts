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

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { requestId?: string; details?: FieldIssue[] } = {},
  ) {
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

/** A workflow file as the studio reads it (docs/workflow-file.md); the server validates it. */
export interface WorkflowFile {
  key: string;
  name: string;
  description?: string;
  trigger: { type: string; [field: string]: unknown };
  steps: StepDefinition[];
  /** Studio layout; never read by the engine. */
  ui?: { nodes?: Record<string, { x: number; y: number }>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface StepDefinition {
  id: string;
  type: 'action' | 'condition' | 'delay' | 'branch' | 'transform' | (string & {});
  name?: string;
  next?: string | null;
  then?: string | null;
  else?: string | null;
  cases?: { equals: unknown; next?: string | null }[];
  default?: string | null;
  connector?: string;
  action?: string;
  [field: string]: unknown;
}

export interface WorkflowDetail {
  key: string;
  name: string;
  hookId: string;
  /** The draft as last saved: any JSON, not necessarily a valid file. */
  draft: unknown;
  activeVersion: number | null;
  active: WorkflowFile | null;
  createdAt: number;
  updatedAt: number;
}

export interface VersionInfo {
  version: number;
  createdBy: string;
  createdAt: number;
  active: boolean;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** A run in one of these states changes no more. */
export const isFinalStatus = (status: string) => status === 'succeeded' || status === 'failed';

export interface RunSummary {
  id: string;
  workflow: string;
  version: number;
  status: RunStatus | (string & {});
  triggerType: string;
  error: { message: string; stepId?: string } | null;
  retryOf: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface AttemptLog {
  n: number;
  attemptId?: string;
  queuedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'retrying' | (string & {});
  error?: { message: string; retryable?: boolean };
  nextAttemptAt?: number;
}

export interface StepRecord {
  id: string;
  type: string;
  status: string;
  attempts: number;
  attemptLog: AttemptLog[];
  input: unknown;
  output: unknown;
  error: { message: string; stack?: string; retryable: boolean; code?: string; status?: number } | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunDetail extends RunSummary {
  trigger: { body?: unknown; headers?: Record<string, string>; query?: Record<string, string> } | null;
  steps: StepRecord[];
}

export type RunFilter = {
  status?: string;
  workflow?: string;
  cursor?: string;
};

export interface DryRunReport {
  status: string;
  path: string[];
  steps: {
    id: string;
    type: string;
    status: string;
    input?: unknown;
    output?: unknown;
    error?: string;
    wouldCall?: { connector: string; action: string; params: unknown };
  }[];
  notes: string[];
}

export interface RuleResult {
  result: unknown;
  passed: boolean;
}

/** Scopes an API token can carry (worker/src/auth/principal.ts). */
export const TOKEN_SCOPES = [
  'workflows:read',
  'workflows:write',
  'runs:trigger',
  'runs:read',
  'secrets:write',
  'audit:read',
] as const;
/** What the server gives a token when no scopes are asked for. */
export const DEFAULT_TOKEN_SCOPES: readonly string[] = [
  'workflows:read',
  'workflows:write',
  'runs:trigger',
  'runs:read',
];

export interface TokenSummary {
  id: string;
  name: string;
  /** The token's first characters, to recognise it; never the value. */
  prefix: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A new token: `token` is its value, returned this once and never again. */
export interface CreatedToken {
  id: string;
  name: string;
  token: string;
  scopes: string[];
}

export interface SecretUse {
  workflow: string;
  version: number | 'draft';
  step: string | null;
  field: string;
}

export interface SecretSummary {
  key: string;
  backend: 'stored' | 'env' | (string & {});
  /** Always the mask: values are never returned. */
  value: string;
  version: number | null;
  createdAt: number | null;
  rotatedAt: number | null;
  lastUsedAt: number | null;
  /** env only: the operator granted this key to the tenant. */
  granted?: boolean;
  /** env only, when granted: the Worker variable is set. */
  set?: boolean;
  usedBy: SecretUse[];
}

export interface SecretWriteResult {
  key: string;
  backend: 'stored';
  value: string;
  version: number;
  createdAt: number;
  rotatedAt: number | null;
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

export type Fetch = typeof fetch;

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as ErrorBody | null)?.error;
  return typeof error?.code === 'string' && typeof error?.message === 'string';
}

export async function request<T>(method: string, path: string, body?: unknown, fetchImpl: Fetch = fetch): Promise<T> {
  let res: Response;
  try {
    res = await fetchImpl(`/api${path}`, {
      method,
      credentials: 'same-origin',
      headers:
        body === undefined
          ? { accept: 'application/json' }
          : { accept: 'application/json', 'content-type': 'application/json' },
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
  listWorkflows: async (fetchImpl?: Fetch) =>
    (await request<{ workflows: WorkflowSummary[] }>('GET', '/workflows', undefined, fetchImpl)).workflows,

  getWorkflow: (key: string, fetchImpl?: Fetch) =>
    request<WorkflowDetail>('GET', `/workflows/${enc(key)}`, undefined, fetchImpl),
  /** Saves the draft; a file the server refuses comes back as an ApiError with `details[].path`. */
  saveDraft: (key: string, file: unknown) =>
    request<{ key: string; created: boolean }>('PUT', `/workflows/${enc(key)}`, file),
  publish: (key: string) => request<{ version: number; unchanged: boolean }>('POST', `/workflows/${enc(key)}/publish`),
  listVersions: async (key: string, fetchImpl?: Fetch) =>
    (await request<{ versions: VersionInfo[] }>('GET', `/workflows/${enc(key)}/versions`, undefined, fetchImpl))
      .versions,
  activateVersion: (key: string, version: number) =>
    request<{ version: number }>('POST', `/workflows/${enc(key)}/versions/${version}/activate`),
  /** A new webhook URL; the old one stops working at once. */
  regenerateHook: (key: string) => request<{ hookId: string; url: string }>('POST', `/workflows/${enc(key)}/hook`),
  startRun: (key: string, payload: unknown) =>
    request<{ runId: string; duplicate: boolean }>('POST', `/workflows/${enc(key)}/runs`, { payload }),
  /** Walks the draft with a sample payload; calls no connector. */
  dryRun: (key: string, payload: unknown) => request<DryRunReport>('POST', `/workflows/${enc(key)}/test`, { payload }),

  listRuns: (filter: RunFilter = {}, fetchImpl?: Fetch) =>
    request<{ runs: RunSummary[]; nextCursor: string | null }>('GET', `/runs${query(filter)}`, undefined, fetchImpl),
  getRun: (id: string, fetchImpl?: Fetch) => request<RunDetail>('GET', `/runs/${enc(id)}`, undefined, fetchImpl),
  retryRun: (id: string) => request<{ runId: string }>('POST', `/runs/${enc(id)}/retry`),

  testRule: (rule: unknown, data: unknown) => request<RuleResult>('POST', '/rules/test', { rule, data }),

  listTokens: async (fetchImpl?: Fetch) =>
    (await request<{ tokens: TokenSummary[] }>('GET', '/tokens', undefined, fetchImpl)).tokens,
  /** The answer carries the token's value: show it once, keep it nowhere. */
  createToken: (name: string, scopes: string[]) => request<CreatedToken>('POST', '/tokens', { name, scopes }),
  revokeToken: (id: string) => request<{ id: string; revoked: boolean }>('DELETE', `/tokens/${enc(id)}`),

  listSecrets: async (fetchImpl?: Fetch) =>
    (await request<{ secrets: SecretSummary[] }>('GET', '/secrets', undefined, fetchImpl)).secrets,
  /** Creates the stored secret, or replaces its value as a new version. */
  putSecret: (key: string, value: string) => request<SecretWriteResult>('PUT', `/secrets/${enc(key)}`, { value }),
  rotateSecret: (key: string, value: string) =>
    request<SecretWriteResult>('POST', `/secrets/${enc(key)}/rotate`, { value }),
  /** Refused (409, `details` naming each) while an active workflow version uses it. */
  deleteSecret: (key: string) =>
    request<{ key: string; deleted: true; version: number }>('DELETE', `/secrets/${enc(key)}`),
};

const enc = encodeURIComponent;

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A plain, serialisable view of any error, for load functions and error notices. */
export function describeError(err: unknown): {
  message: string;
  code?: string;
  requestId?: string;
  details?: FieldIssue[];
} {
  if (err instanceof ApiError)
    return { message: err.message, code: err.code, requestId: err.requestId, details: err.details };
  return { message: err instanceof Error ? err.message : String(err) };
}
