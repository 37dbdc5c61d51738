/**
 * The studio's calls to the Automate API: a thin layer over the one typed client
 * (api/client.ts), whose types `npm run api:generate` writes from the server's route
 * schemas. Same origin, session cookie. Every failure is an `ApiError` carrying the
 * server's `{error: {code, message, requestId, details?}}`, so pages can show the user what
 * went wrong and which request to quote.
 */
import { ApiError, createApiClient, unwrap, type Schemas } from '../../../api/client.ts';

export { ApiError, DEFAULT_TOKEN_SCOPES, SCOPES as TOKEN_SCOPES } from '../../../api/client.ts';
export type { FieldIssue } from '../../../api/client.ts';

export type Me = Schemas['Me'];
export type Role = NonNullable<Me['user']>['role'];
export type WorkflowSummary = Schemas['WorkflowSummary'];
export type WorkflowDetail = Schemas['WorkflowDetail'];
export type VersionInfo = Schemas['VersionInfo'];
export type RunSummary = Schemas['RunSummary'];
export type RunStatus = RunSummary['status'];
export type RunDetail = Schemas['RunDetail'];
export type StepRecord = Schemas['StepRecord'];
export type AttemptLog = Schemas['AttemptLog'];
export type DryRunReport = Schemas['DryRunResult'];
export type RuleResult = Schemas['RuleResult'];
export type TokenSummary = Schemas['TokenSummary'];
export type CreatedToken = Schemas['CreatedToken'];
export type SecretSummary = Schemas['SecretSummary'];
export type SecretWriteResult = Schemas['SecretWriteResult'];
export type CopilotDraft = Schemas['CopilotDraft'];
export type Scope = CreatedToken['scopes'][number];
/** From the page's URL, as typed: the server refuses a status it does not know (400, shown on the page). */
export type RunFilter = { status?: string; workflow?: string; cursor?: string };

/**
 * A workflow file as the editor holds it: any JSON the user typed, read defensively (the
 * server's `WorkflowFile` is what it accepts; a draft need not be one yet).
 */
export interface DraftFile {
  key: string;
  name: string;
  trigger: { type: string; [field: string]: unknown };
  steps: DraftStep[];
  /** Studio layout; never read by the engine. */
  ui?: { nodes?: Record<string, { x: number; y: number }>; [field: string]: unknown };
  [field: string]: unknown;
}

export interface DraftStep {
  id: string;
  type: string;
  name?: string;
  next?: string | null;
  then?: string | null;
  else?: string | null;
  cases?: { equals: unknown; next?: string | null }[];
  default?: string | null;
  connector?: string;
  action?: string;
  params?: Record<string, unknown>;
  secrets?: Record<string, { $secret: string; backend?: string }>;
  [field: string]: unknown;
}

/** A run in one of these states changes no more. */
export const isFinalStatus = (status: RunStatus) => status === 'succeeded' || status === 'failed';

/** SvelteKit's load `fetch`, passed through so loads reuse what the page already fetched. */
export type Fetch = typeof fetch;

export const client = createApiClient({ baseUrl: '', init: { credentials: 'same-origin' } });
export const via = (fetchImpl?: Fetch) => (fetchImpl ? { fetch: (request: Request) => fetchImpl(request) } : {});
const key = (workflowKey: string) => ({ params: { path: { key: workflowKey } } });

export const api = {
  /** The signed-in identity, or null when there is no session. */
  async me(fetchImpl?: Fetch): Promise<Me | null> {
    try {
      return await unwrap(client.GET('/auth/me', via(fetchImpl)));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'unauthorized') return null;
      throw err;
    }
  },
  signup: (body: Schemas['SignupRequest']) => unwrap(client.POST('/auth/signup', { body })),
  login: (body: Schemas['LoginRequest']) => unwrap(client.POST('/auth/login', { body })),
  logout: () => unwrap(client.POST('/auth/logout')),
  listWorkflows: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/workflows', via(fetchImpl)))).workflows,

  getWorkflow: (workflowKey: string, fetchImpl?: Fetch) =>
    unwrap(client.GET('/workflows/{key}', { ...key(workflowKey), ...via(fetchImpl) })),
  /** Creates the workflow (or replaces its draft) from a whole file. */
  importWorkflow: (file: unknown) =>
    unwrap(client.POST('/workflows/import', { body: file as Schemas['WorkflowFile'] })),
  /** Every problem the file has (schema, credentials, connectors, secrets); saves nothing. */
  validateWorkflow: async (file: unknown) =>
    (await unwrap(client.POST('/workflows/validate', { body: file }))).problems,
  listConnectors: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/connectors', via(fetchImpl)))).connectors,
  /**
   * Saves the draft; a file the server refuses comes back as an ApiError with `details[].path`.
   * The server validates it: the editor may hold anything.
   */
  saveDraft: (workflowKey: string, file: unknown) =>
    unwrap(client.PUT('/workflows/{key}', { ...key(workflowKey), body: file as Schemas['WorkflowFile'] })),
  publish: (workflowKey: string) => unwrap(client.POST('/workflows/{key}/publish', key(workflowKey))),
  listVersions: async (workflowKey: string, fetchImpl?: Fetch) =>
    (await unwrap(client.GET('/workflows/{key}/versions', { ...key(workflowKey), ...via(fetchImpl) }))).versions,
  /** A version's file exactly as published (or the draft without `version`). */
  exportVersion: (workflowKey: string, version?: number, fetchImpl?: Fetch) =>
    unwrap(
      client.GET('/workflows/{key}/export', {
        params: { path: { key: workflowKey }, query: version === undefined ? {} : { version } },
        ...via(fetchImpl),
      }),
    ),
  renameWorkflow: (workflowKey: string, name: string) =>
    unwrap(client.PATCH('/workflows/{key}', { ...key(workflowKey), body: { name } })),
  /** No version active: webhooks, API calls and the schedule start no run until one is activated. */
  disableWorkflow: (workflowKey: string) => unwrap(client.POST('/workflows/{key}/disable', key(workflowKey))),
  countRuns: (workflowKey: string) => unwrap(client.GET('/workflows/{key}/runs/count', key(workflowKey))),
  /** Deletes the workflow with its versions and runs; refused (409) while a run is in flight. */
  deleteWorkflow: (workflowKey: string) => unwrap(client.DELETE('/workflows/{key}', key(workflowKey))),
  activateVersion: (workflowKey: string, version: number) =>
    unwrap(
      client.POST('/workflows/{key}/versions/{n}/activate', { params: { path: { key: workflowKey, n: version } } }),
    ),
  /** A new webhook URL; the old one stops working at once. */
  regenerateHook: (workflowKey: string) => unwrap(client.POST('/workflows/{key}/hook', key(workflowKey))),
  startRun: (workflowKey: string, payload: unknown) =>
    unwrap(client.POST('/workflows/{key}/runs', { ...key(workflowKey), body: { payload } })),
  /** Walks the draft with a sample payload; calls no connector. */
  dryRun: (workflowKey: string, payload: unknown) =>
    unwrap(client.POST('/workflows/{key}/test', { ...key(workflowKey), body: { payload } })),

  listRuns: (filter: RunFilter = {}, fetchImpl?: Fetch) =>
    unwrap(
      client.GET('/runs', {
        params: { query: withoutEmpty(filter) as { status?: RunStatus; workflow?: string; cursor?: string } },
        ...via(fetchImpl),
      }),
    ),
  getRun: (id: string, fetchImpl?: Fetch) =>
    unwrap(client.GET('/runs/{id}', { params: { path: { id } }, ...via(fetchImpl) })),
  retryRun: (id: string) => unwrap(client.POST('/runs/{id}/retry', { params: { path: { id } } })),

  /** Whatever JSON the user typed as the rule: the server says what is wrong with it. */
  testRule: (rule: unknown, data: unknown) =>
    unwrap(client.POST('/rules/test', { body: { rule: rule as Schemas['RuleTestRequest']['rule'], data } })),

  /**
   * A workflow draft from a sentence, or `workflow` changed by it; saves nothing. A 429
   * carries `retryAfterSeconds` from the answer's `Retry-After`, so the box can say when.
   */
  draftWorkflow: async (prompt: string, workflow?: DraftFile): Promise<CopilotDraft> => {
    const body = { prompt, ...(workflow ? { workflow: workflow as Schemas['CopilotDraftRequest']['workflow'] } : {}) };
    let retryAfter: string | null = null;
    try {
      return await unwrap(
        client.POST('/copilot/draft', { body }).then((result) => {
          retryAfter = result.response.headers.get('retry-after');
          return result;
        }),
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 429 && retryAfter !== null)
        Object.assign(err, { retryAfterSeconds: Number(retryAfter) });
      throw err;
    }
  },

  listTokens: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/tokens', via(fetchImpl)))).tokens,
  /** The answer carries the token's value: show it once, keep it nowhere. */
  createToken: (name: string, scopes: Scope[]) => unwrap(client.POST('/tokens', { body: { name, scopes } })),
  revokeToken: (id: string) => unwrap(client.DELETE('/tokens/{id}', { params: { path: { id } } })),

  listSecrets: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/secrets', via(fetchImpl)))).secrets,
  /** Creates the stored secret, or replaces its value as a new version. */
  putSecret: (secretKey: string, value: string) =>
    unwrap(client.PUT('/secrets/{key}', { params: { path: { key: secretKey } }, body: { value } })),
  rotateSecret: (secretKey: string, value: string) =>
    unwrap(client.POST('/secrets/{key}/rotate', { params: { path: { key: secretKey } }, body: { value } })),
  /** Refused (409, `details` naming each) while an active workflow version uses it. */
  deleteSecret: (secretKey: string) =>
    unwrap(client.DELETE('/secrets/{key}', { params: { path: { key: secretKey } } })),
};

/** Filters the user left empty are not sent (`?status=` would be refused). */
function withoutEmpty<T extends Record<string, string | undefined>>(params: T): Partial<T> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value)) as Partial<T>;
}

/** A plain, serialisable view of any error, for load functions and error notices. */
export function describeError(err: unknown): {
  message: string;
  code?: string;
  requestId?: string;
  details?: { path: string; message: string }[];
  /** A 429's `Retry-After`, where the call kept it (the copilot's). */
  retryAfterSeconds?: number;
} {
  if (err instanceof ApiError) {
    const { retryAfterSeconds } = err as ApiError & { retryAfterSeconds?: number };
    return {
      message: err.message,
      code: err.code,
      requestId: err.requestId,
      details: err.details,
      ...(retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? { retryAfterSeconds } : {}),
    };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}
