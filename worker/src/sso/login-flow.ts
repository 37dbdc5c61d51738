/**
 * The SSO sign-in itself: authorization code flow with PKCE (S256), `state` and `nonce`
 * (OIDC Core §3.1, RFC 7636).
 *
 * `start` makes one random flow secret and puts it in a short-lived HttpOnly cookie bound
 * to this browser. The nonce and the PKCE verifier are derived from that secret, and the
 * server keeps only the SHA-256 of the secret and of the `state` (`sso_logins`), so neither
 * a leaked table nor a leaked authorization URL is enough to finish someone's sign-in.
 * `finish` deletes the flow row before anything else (each flow is used once), checks the
 * state, exchanges the code, validates the ID token and maps the address to an account.
 */
import { eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client';
import { ssoLogins, tenants } from '../db/schema';
import type { Env } from '../env';
import { base64url, randomBytes, sha256Hex, timingSafeEqual } from '../lib/crypto';
import { createSecretResolver } from '../secrets/resolver';
import { SecretError } from '../secrets/secret-error';
import { IdTokenError, verifyIdToken, type VerifiedIdentity } from './id-token';
import { fetchProviderJson, ProviderError } from './provider-fetch';
import { getSsoConfig, type SsoConfig } from './sso-config';

export const SSO_FLOW_COOKIE = 'automate_sso';
/** Time allowed between leaving for the provider and coming back. */
export const SSO_FLOW_TTL_MS = 10 * 60 * 1000;
export const CALLBACK_PATH = '/api/auth/sso/callback';

/** Why a sign-in was refused: stable words for the audit log and the login page. */
export type RefusalReason =
  | 'bad_state'
  | 'expired'
  | 'not_configured'
  | 'provider_error'
  | 'exchange_failed'
  | 'bad_signature'
  | 'bad_claims'
  | 'bad_nonce'
  | 'email_unverified'
  | 'wrong_domain'
  | 'other_tenant';

export class SsoRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly tenantId: string | null,
    readonly email: string | null = null,
  ) {
    super(message);
    this.name = 'SsoRefusal';
  }
}

const encoder = new TextEncoder();
async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}
/** The nonce and PKCE verifier of a flow, from its cookie secret (43 base64url characters each). */
const nonceOf = async (flow: string) => base64url(await sha256(`nonce:${flow}`));
const verifierOf = async (flow: string) => base64url(await sha256(`pkce:${flow}`));

export const callbackUrl = (requestUrl: string) => new URL(CALLBACK_PATH, requestUrl).toString();

/** Begins a sign-in: the row, the cookie value and where to send the browser. */
export async function startSignIn(db: Db, config: SsoConfig, requestUrl: string, loginHint: string | null) {
  const flow = base64url(randomBytes(32));
  const state = base64url(randomBytes(32));
  const now = Date.now();
  await db.batch([
    // Abandoned flows are dropped as new ones start (the expiry index keeps this cheap).
    db.delete(ssoLogins).where(lt(ssoLogins.expiresAt, now)),
    db.insert(ssoLogins).values({
      idHash: await sha256Hex(flow),
      tenantId: config.tenantId,
      stateHash: await sha256Hex(state),
      expiresAt: now + SSO_FLOW_TTL_MS,
    }),
  ]);
  const url = new URL(config.discovery.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', callbackUrl(requestUrl));
  url.searchParams.set('scope', 'openid email profile');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', await nonceOf(flow));
  url.searchParams.set('code_challenge', base64url(await sha256(await verifierOf(flow))));
  url.searchParams.set('code_challenge_method', 'S256');
  if (loginHint) url.searchParams.set('login_hint', loginHint);
  return { flow, location: url.toString() };
}

export interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
}

/** The verified identity and the tenant whose configuration vouched for it; SsoRefusal otherwise. */
export async function finishSignIn(
  env: Env,
  db: Db,
  flow: string,
  query: CallbackQuery,
  requestUrl: string,
): Promise<{ config: SsoConfig; identity: VerifiedIdentity }> {
  const idHash = await sha256Hex(flow);
  // Used once: deleted before anything is checked, so a replayed callback finds nothing.
  const row = await db.delete(ssoLogins).where(eq(ssoLogins.idHash, idHash)).returning().get();
  if (!row)
    throw new SsoRefusal('bad_state', 'No sign-in in progress in this browser (already used or never started)', null);
  if (row.expiresAt < Date.now())
    throw new SsoRefusal('expired', 'The sign-in took longer than 10 minutes; start again', row.tenantId);
  if (!query.state || !timingSafeEqual(await sha256Hex(query.state), row.stateHash))
    throw new SsoRefusal(
      'bad_state',
      'The state returned by the provider is not the one this sign-in sent',
      row.tenantId,
    );
  if (query.error)
    throw new SsoRefusal('provider_error', `The provider refused: ${query.error.slice(0, 100)}`, row.tenantId);
  if (!query.code) throw new SsoRefusal('provider_error', 'The provider sent no authorization code', row.tenantId);
  const config = await getSsoConfig(db, row.tenantId);
  if (!config?.enabled)
    throw new SsoRefusal('not_configured', 'Single sign-on was turned off for this team', row.tenantId);

  const idToken = await exchangeCode(env, db, config, query.code, flow, requestUrl);
  let identity: VerifiedIdentity;
  try {
    identity = await verifyIdToken(env, idToken, {
      issuer: config.discovery.issuer,
      clientId: config.clientId,
      nonce: await nonceOf(flow),
      jwksUri: config.discovery.jwksUri,
    });
  } catch (e) {
    if (e instanceof IdTokenError) throw new SsoRefusal(e.reason, e.message, row.tenantId);
    if (e instanceof ProviderError) throw new SsoRefusal('provider_error', e.message, row.tenantId);
    throw e;
  }
  const domain = identity.email.slice(identity.email.lastIndexOf('@') + 1);
  if (!config.domains.includes(domain))
    throw new SsoRefusal(
      'wrong_domain',
      `${domain} is not one of this team's single sign-on domains`,
      row.tenantId,
      identity.email,
    );
  return { config, identity };
}

/** Trades the code for tokens; returns the ID token (never logged, never stored). */
async function exchangeCode(env: Env, db: Db, config: SsoConfig, code: string, flow: string, requestUrl: string) {
  const tenant = (await db
    .select({ id: tenants.id, slug: tenants.slug })
    .from(tenants)
    .where(eq(tenants.id, config.tenantId))
    .get())!;
  let secret: string;
  try {
    secret = (await createSecretResolver(env, db).resolveForStep(tenant, { CLIENT_SECRET: config.clientSecret })).values
      .CLIENT_SECRET;
  } catch (e) {
    if (e instanceof SecretError) throw new SsoRefusal('exchange_failed', `The client secret: ${e.message}`, tenant.id);
    throw e;
  }
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    redirect_uri: callbackUrl(requestUrl),
    code_verifier: await verifierOf(flow),
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (config.discovery.tokenAuthMethod === 'client_secret_basic') {
    // RFC 6749 §2.3.1: each part form-urlencoded before joining.
    const basic = `${encodeURIComponent(config.clientId)}:${encodeURIComponent(secret)}`;
    headers.authorization = `Basic ${btoa(basic)}`;
  } else {
    form.set('client_id', config.clientId);
    form.set('client_secret', secret);
  }
  let answer: unknown;
  try {
    answer = await fetchProviderJson(env, config.discovery.tokenEndpoint, { method: 'POST', headers, body: form });
  } catch (e) {
    if (e instanceof ProviderError) throw new SsoRefusal('exchange_failed', e.message, tenant.id);
    throw e;
  }
  const idToken = (answer as { id_token?: unknown })?.id_token;
  if (typeof idToken !== 'string')
    throw new SsoRefusal('exchange_failed', 'The token endpoint sent no id_token', tenant.id);
  return idToken;
}
