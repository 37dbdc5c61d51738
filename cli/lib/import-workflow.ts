/**
 * The one API call the CLI makes, through the typed client (api/client.ts). Outcomes are
 * data: `{ok: true, result}` or `{ok: false, message, details, fatal}`; `fatal` means
 * every further call would fail the same way (server unreachable, token refused), so a
 * batch should stop.
 */
import { createApiClient, toApiError, unreachableReason, type FieldIssue, type Schemas } from '../../api/client.ts';

export type ImportOutcome =
  | { ok: true; status: number; result: Schemas['SaveResult'] }
  | { ok: false; fatal: boolean; status?: number; message: string; summary?: string; details?: FieldIssue[] };

export interface ImportRequest {
  baseUrl: string;
  token: string;
  /** The file as written: sent verbatim, so `export` gives back the same bytes. */
  text: string;
  publish: boolean;
}

export async function importWorkflow({ baseUrl, token, text, publish }: ImportRequest): Promise<ImportOutcome> {
  const client = createApiClient({ baseUrl, token, timeoutMs: 30_000 });
  let answer: Awaited<ReturnType<typeof post>>;
  const post = () =>
    client.POST('/workflows/import', {
      params: { query: publish ? { publish: 'true' } : {} },
      // The caller checked it is JSON; the server validates it against the workflow schema.
      body: JSON.parse(text) as Schemas['WorkflowFile'],
      bodySerializer: () => text,
      headers: { 'content-type': 'application/json' },
    });
  try {
    answer = await post();
  } catch (err) {
    if (err instanceof SyntaxError)
      return { ok: false, fatal: true, message: `unexpected answer from ${baseUrl}: not JSON (${err.message})` };
    return {
      ok: false,
      fatal: true,
      message: `cannot reach ${baseUrl} (${unreachableReason(err)}). Is the server running? Check AUTOMATE_URL.`,
    };
  }
  const { data, error, response } = answer;
  if (data) return { ok: true, status: response.status, result: data };

  const failure = toApiError(response, error);
  if (failure.code === 'unexpected_response')
    return {
      ok: false,
      fatal: response.status >= 500,
      message: `unexpected answer: HTTP ${response.status} ${response.statusText} from ${response.url}`,
    };
  const details = failure.details ?? [];
  const ref = failure.requestId ? ` [request ${failure.requestId}]` : '';
  // The server's message repeats the first detail ("Cannot publish: steps[1].x: ..."); keep its lead.
  const lead =
    details.length && failure.message.includes(`: ${details[0].path}`)
      ? failure.message.slice(0, failure.message.indexOf(`: ${details[0].path}`))
      : failure.message;
  return {
    ok: false,
    // A bad token fails every file alike: stop at the first (codes: docs/errors.md).
    fatal: failure.code === 'unauthorized',
    status: response.status,
    message: `${failure.code}: ${failure.message}${ref}`,
    summary: `${lead} (${details.length} problems)${ref}`,
    details,
  };
}
