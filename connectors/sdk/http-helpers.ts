/**
 * Outbound HTTP for connectors with the failure semantics the engine expects:
 * network errors and timeouts are retryable, statuses are classified once
 * (408, 429, 5xx retryable, honouring Retry-After), and bodies are size-capped.
 */
import type { ExecutionContext } from './connector-adapter';
import { ConnectorError } from './connector-error';

/**
 * How long `fetchText` waits by default (30 s).
 *
 * @example
 * ```ts
 * await fetchText(ctx, url, {}, { timeoutMs: 2 * DEFAULT_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_TIMEOUT_MS = 30_000;
/**
 * The largest body `fetchText` reads by default (5 MiB).
 *
 * @example
 * ```ts
 * await fetchText(ctx, url, {}, { maxBytes: DEFAULT_MAX_RESPONSE_BYTES * 4 });
 * ```
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/**
 * Limits for `fetchText`.
 *
 * @example
 * ```ts
 * const options: FetchTextOptions = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };
 * ```
 */
export interface FetchTextOptions {
  /** Covers connecting, the answer and reading the body. Default 30 s. */
  timeoutMs?: number;
  /** Larger bodies fail the step (non-retryable). Default 5 MiB. */
  maxBytes?: number;
}

/**
 * What `fetchText` resolves with.
 *
 * @example
 * ```ts
 * const { response, text }: FetchTextResult = await fetchText(ctx, url);
 * ```
 */
export interface FetchTextResult {
  response: Response;
  /** The body, decoded (UTF-8 unless the content-type names a charset). */
  text: string;
}

/**
 * `context.fetch` plus reading the body, with a timeout. Resolves for every HTTP
 * status; rejects only with ConnectorErrors: `TIMEOUT` (this call's timeout or the step's
 * time limit passed) and `NETWORK` (retryable), `ABORTED` (the engine's signal fired for
 * another reason; retryable), `RESPONSE_TOO_LARGE` (not).
 *
 * @example
 * ```ts
 * const { response, text } = await fetchText(ctx, url, { method: 'POST', body }, { timeoutMs: 10_000 });
 * if (!response.ok) throw errorForStatus(response, text, `ERP ${describeUrl(url)}`);
 * ```
 */
export async function fetchText(
  context: Pick<ExecutionContext, 'fetch' | 'signal'>,
  url: string | URL,
  init: RequestInit = {},
  options: FetchTextOptions = {},
): Promise<FetchTextResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = context.signal ? AbortSignal.any([context.signal, timeout]) : timeout;
  const label = `${(init.method ?? 'GET').toUpperCase()} ${describeUrl(url)}`;
  const classify = (err: unknown): ConnectorError => {
    if (err instanceof ConnectorError) return err;
    // Checked first: when the call's own timeout and the step's limit are the same, both fire.
    if (timeout.aborted)
      return new ConnectorError(`${label} timed out after ${timeoutMs} ms`, {
        retryable: true,
        code: 'TIMEOUT',
        cause: err,
      });
    if (context.signal?.aborted) {
      // The engine's signal times out at the step's limit (docs/execution.md).
      if ((context.signal.reason as Error | undefined)?.name === 'TimeoutError')
        return new ConnectorError(`${label} ran past the step's time limit`, {
          retryable: true,
          code: 'TIMEOUT',
          cause: err,
        });
      return new ConnectorError(`${label} was cancelled`, { retryable: true, code: 'ABORTED', cause: err });
    }
    const reason = err instanceof Error ? err.message : String(err);
    return new ConnectorError(`${label} failed: ${reason}`, { retryable: true, code: 'NETWORK', cause: err });
  };
  let response: Response;
  try {
    response = await context.fetch(url, { ...init, signal });
  } catch (err) {
    throw classify(err);
  }
  try {
    return { response, text: await readText(response, maxBytes, label) };
  } catch (err) {
    throw classify(err);
  }
}

async function readText(response: Response, maxBytes: number, label: string): Promise<string> {
  const tooLarge = () =>
    new ConnectorError(`${label} answered with more than ${maxBytes} bytes`, {
      code: 'RESPONSE_TOO_LARGE',
      status: response.status,
    });
  if (Number(response.headers.get('content-length')) > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return '';
  const decoder = textDecoderFor(response.headers.get('content-type'));
  const reader = response.body.getReader();
  let size = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

function textDecoderFor(contentType: string | null): TextDecoder {
  const charset = /charset="?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  try {
    if (charset) return new TextDecoder(charset);
  } catch {
    // An unknown charset label: read it as UTF-8 rather than fail the step.
  }
  return new TextDecoder('utf-8');
}

/**
 * 408, 429 and 5xx: statuses where the same request may succeed later.
 *
 * @example
 * ```ts
 * isRetryableStatus(503); // true
 * isRetryableStatus(400); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * A `Retry-After` header (delay in seconds or an HTTP date) in milliseconds, or
 * `undefined` when absent or unreadable.
 *
 * @example
 * ```ts
 * parseRetryAfter('120'); // 120000
 * parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT'); // ms until then (0 if past)
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The ConnectorError for an unsuccessful HTTP answer: retryable for 408, 429 and 5xx
 * (with `retryAfterMs` from Retry-After), not otherwise; the message carries the
 * status and a short snippet of the body.
 *
 * @example
 * ```ts
 * if (!response.ok) throw errorForStatus(response, text, `POST ${describeUrl(url)}`);
 * // -> ConnectorError('POST https://api.example.com/orders answered 400 Bad Request: {"error":"sku unknown"}')
 * ```
 */
export function errorForStatus(response: Response, body: string, label: string): ConnectorError {
  const status = response.status;
  const snippet = bodySnippet(body);
  const message = `${label} answered ${status}${response.statusText ? ` ${response.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`;
  return new ConnectorError(message, {
    retryable: isRetryableStatus(status),
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    status,
    code: `HTTP_${status}`,
  });
}

/**
 * The first `max` characters of a body on one line, for error messages.
 *
 * @example
 * ```ts
 * bodySnippet('{\n  "error": "bad sku"\n}'); // '{ "error": "bad sku" }'
 * ```
 */
export function bodySnippet(body: string, max = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * A URL for messages: origin and path only, since query strings and user info often
 * carry credentials.
 *
 * @example
 * ```ts
 * describeUrl('https://user:pw@api.example.com/v1/orders?api_key=k'); // 'https://api.example.com/v1/orders'
 * ```
 */
export function describeUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
