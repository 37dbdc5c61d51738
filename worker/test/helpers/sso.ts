/**
 * Single sign-on against the local OpenID Connect provider (connectors/testing/oidc-provider.ts,
 * started by the global setup): configure a tenant, and walk a browser's sign-in through the
 * Worker and the provider with a cookie jar per party, the way Chromium would.
 */
import { env } from 'cloudflare:test';
import { BASE, call, linkToken, mailTo, PASSWORD, putSecrets, type Result, type Session } from './api';

export const issuer = () => env.TEST_OIDC_ISSUER;
export const clientSecretOf = (clientId: string) => `${clientId}-secret`;

let domains = 0;
/** A domain no other test uses. */
export const uniqueDomain = (label = 'acme') => `${label}-${++domains}-${crypto.randomUUID().slice(0, 6)}.test`;

export interface SsoSetup {
  clientId?: 'automate-rs' | 'automate-es' | 'automate-forged';
  domains: string[];
  defaultRole?: 'admin' | 'editor' | 'viewer';
  requireSso?: boolean;
  enabled?: boolean;
}

/** Stores the client's secret and saves the configuration as the owner; returns the answer. */
export async function configureSso(owner: Session, setup: SsoSetup): Promise<Result> {
  const clientId = setup.clientId ?? 'automate-rs';
  await putSecrets(owner, { OIDC_CLIENT_SECRET: clientSecretOf(clientId) });
  return call('PUT', '/api/sso', {
    session: owner,
    body: {
      issuer: issuer(),
      clientId,
      clientSecret: { $secret: 'OIDC_CLIENT_SECRET' },
      domains: setup.domains,
      defaultRole: setup.defaultRole ?? 'viewer',
      enabled: setup.enabled ?? true,
      requireSso: setup.requireSso ?? false,
    },
  });
}

/** A member of the owner's team with exactly this address (SSO tests need addresses in their domains). */
export async function memberWithEmail(owner: Session, email: string, role: 'admin' | 'editor' | 'viewer') {
  const invited = await call('POST', '/api/invitations', { session: owner, body: { email, role } });
  if (invited.status !== 201) throw new Error(`invite ${email}: ${invited.status} ${invited.text}`);
  const token = linkToken(await mailTo(email, 'invitation'));
  const accepted = await call('POST', '/api/auth/invitation/accept', {
    body: { token, name: `Member ${email}`, password: PASSWORD },
  });
  if (accepted.status !== 201) throw new Error(`accept ${email}: ${accepted.status} ${accepted.text}`);
}

/** Name=value pairs from Set-Cookie headers, later ones winning. */
class Jar {
  private cookies = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get(name: string) {
    return this.cookies.get(name);
  }
}

export interface SsoAttempt {
  /** The Worker's answer to the callback. */
  callback: Result;
  /** `automate_session=...` when the sign-in succeeded. */
  session: string | null;
  /** Where the callback sent the browser. */
  location: string;
  /** The `sso_error` the login page was given, if any. */
  error: string | null;
  /** The callback URL as the provider sent it (carries the authorization code). */
  callbackUrl: string;
}

export interface SignInOptions {
  /** The provider signs in this address instead of the one typed (a user of another domain). */
  as?: string;
  /** Changes the callback URL before the Worker sees it (a wrong `state`). */
  tamper?: (url: URL) => void;
  /** Runs between leaving for the provider and coming back. */
  beforeCallback?: () => Promise<void>;
  /** Sends the callback with this flow cookie instead (replays). */
  flowCookie?: string;
}

/** Start at the Worker, sign in at the provider, come back to the Worker's callback. */
export async function signInWithSso(email: string, opts: SignInOptions = {}): Promise<SsoAttempt & { flow: string }> {
  const worker = new Jar();
  const start = await call('GET', `/api/auth/sso/start?email=${encodeURIComponent(email)}`, { redirect: 'manual' });
  if (start.status !== 302) throw new Error(`start: ${start.status} ${start.text}`);
  const startRes = new Response(null, { headers: start.headers });
  worker.take(startRes);
  const flow = worker.get('automate_sso');
  if (!flow) throw new Error('start set no flow cookie');

  const provider = new Jar();
  let next = start.headers.get('location')!;
  for (let hop = 0; hop < 10 && !next.startsWith(BASE); hop++) {
    const url = new URL(next, issuer());
    if (opts.as && url.pathname.startsWith('/interaction/')) url.searchParams.set('as', opts.as);
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: provider.header() } });
    provider.take(res);
    const location = res.headers.get('location');
    if (!location) throw new Error(`provider ${url.pathname}: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    next = new URL(location, url).toString();
  }
  if (!next.startsWith(BASE)) throw new Error(`never came back: ${next}`);
  const callbackUrl = new URL(next);
  opts.tamper?.(callbackUrl);
  await opts.beforeCallback?.();
  const callback = await call('GET', callbackUrl.pathname + callbackUrl.search, {
    headers: { cookie: `automate_sso=${opts.flowCookie ?? flow}` },
    redirect: 'manual',
  });
  const session = /automate_session=([^;]+)/.exec(callback.headers.get('set-cookie') ?? '');
  const location = callback.headers.get('location') ?? '';
  return {
    flow,
    callback,
    session: session ? `automate_session=${session[1]}` : null,
    location,
    error: location ? new URL(location).searchParams.get('sso_error') : null,
    callbackUrl: next,
  };
}
