/**
 * Every request Automate makes to an identity provider (discovery, JWKS, token endpoint)
 * goes through here. The issuer is typed by a tenant owner, so it gets the connectors'
 * SSRF rule: outside local dev and tests (`allowPrivateNetwork`) no private, loopback or
 * special-use host, and https only. No redirects are followed (each would need the same
 * check), answers are size-capped and time-limited.
 */
import { privateHostReason } from '../../../connectors/sdk/network-guard';
import type { Env } from '../env';
import { allowPrivateNetwork } from '../run/step-consumer';

export const PROVIDER_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 512 * 1024;

/** Why talking to the provider failed; the message names the URL's host, never a credential. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: 'blocked' | 'unreachable' | 'bad_answer',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Throws ProviderError('blocked') unless `url` is a destination this deployment may call. */
export function checkProviderUrl(env: Env, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ProviderError(`not a URL: ${url.slice(0, 200)}`, 'blocked');
  }
  const relaxed = allowPrivateNetwork(env);
  if (parsed.protocol !== 'https:' && !(relaxed && parsed.protocol === 'http:'))
    throw new ProviderError(`${parsed.origin} must use https`, 'blocked');
  if (parsed.username || parsed.password) throw new ProviderError('URLs with credentials are refused', 'blocked');
  const reason = relaxed ? undefined : privateHostReason(parsed.hostname);
  if (reason) throw new ProviderError(`refusing ${parsed.hostname}: ${reason}`, 'blocked');
  return parsed;
}

/** JSON from the provider, or ProviderError. */
export async function fetchProviderJson(env: Env, url: string, init: RequestInit = {}): Promise<unknown> {
  const target = checkProviderUrl(env, url);
  let res: Response;
  try {
    res = await fetch(target, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS),
      headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (e) {
    throw new ProviderError(`${target.host} did not answer (${(e as Error).name})`, 'unreachable');
  }
  const text = await readCapped(res);
  if (res.status >= 300 && res.status < 400)
    throw new ProviderError(
      `${target.host}${target.pathname} redirected (${res.status}); redirects are not followed`,
      'bad_answer',
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProviderError(`${target.host}${target.pathname} answered ${res.status} with no JSON`, 'bad_answer');
  }
  if (!res.ok) {
    // OAuth errors carry `error` (a code) and maybe `error_description`: neither holds a credential.
    const code =
      typeof (json as { error?: unknown })?.error === 'string' ? ` (${(json as { error: string }).error})` : '';
    throw new ProviderError(`${target.host}${target.pathname} answered ${res.status}${code}`, 'bad_answer');
  }
  return json;
}

async function readCapped(res: Response): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw new ProviderError(`answer larger than ${MAX_ANSWER_BYTES} bytes`, 'bad_answer');
  }
  const text = await res.text();
  if (text.length > MAX_ANSWER_BYTES)
    throw new ProviderError(`answer larger than ${MAX_ANSWER_BYTES} bytes`, 'bad_answer');
  return text;
}
