/**
 * ID token validation (OIDC Core §3.1.3.7) with `jose`: the signature against the
 * provider's JWKS (RS256, PS256, ES256, EdDSA; never `none` or HMAC), then `iss`, `aud`
 * (and `azp` when there are several audiences), `exp`, `iat`, `nonce` and `email_verified`.
 * JWKS are cached per isolate by URL and fetched again when a token names a key we do not
 * have (the provider rotated), at most once per REFRESH_COOLDOWN_MS so forged `kid`s cannot
 * make us hammer the provider.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, type JWTPayload } from 'jose';
import type { Env } from '../env';
import { fetchProviderJson, ProviderError } from './provider-fetch';

export const ID_TOKEN_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Clock skew we accept between us and the provider. */
export const CLOCK_TOLERANCE_S = 60;
/** A token issued longer ago than this is refused even if `exp` says otherwise. */
export const MAX_TOKEN_AGE_S = 10 * 60;
const REFRESH_COOLDOWN_MS = 30_000;
const MAX_CACHED_SETS = 100;

interface CachedSet {
  verify: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}
const cache = new Map<string, CachedSet>();

async function loadJwks(env: Env, jwksUri: string): Promise<CachedSet> {
  const json = (await fetchProviderJson(env, jwksUri)) as JSONWebKeySet;
  if (!json || !Array.isArray(json.keys)) throw new ProviderError('the JWKS has no "keys"', 'bad_answer');
  const entry = { verify: createLocalJWKSet(json), fetchedAt: Date.now() };
  if (cache.size >= MAX_CACHED_SETS) cache.delete(cache.keys().next().value!);
  cache.set(jwksUri, entry);
  return entry;
}

/** Why an ID token was refused, in words for the audit log; never the token. */
export class IdTokenError extends Error {
  constructor(
    message: string,
    readonly reason: 'bad_signature' | 'expired' | 'bad_claims' | 'bad_nonce' | 'email_unverified',
  ) {
    super(message);
    this.name = 'IdTokenError';
  }
}

export interface ExpectedClaims {
  issuer: string;
  clientId: string;
  nonce: string;
  jwksUri: string;
}

export interface VerifiedIdentity {
  subject: string;
  email: string;
  /** The `name` claim, when the provider sends one (shown in member lists). */
  name: string | null;
}

export async function verifyIdToken(env: Env, token: string, expect: ExpectedClaims): Promise<VerifiedIdentity> {
  let payload: JWTPayload;
  try {
    payload = await verifyWithRefresh(env, token, expect);
  } catch (e) {
    if (e instanceof ProviderError) throw e;
    throw classify(e);
  }
  if (payload.nonce !== expect.nonce)
    throw new IdTokenError('the ID token nonce does not match this sign-in', 'bad_nonce');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (aud.length > 1 && payload.azp !== expect.clientId)
    throw new IdTokenError('the ID token has several audiences and its azp is not this client', 'bad_claims');
  if (typeof payload.sub !== 'string' || !payload.sub) throw new IdTokenError('the ID token has no sub', 'bad_claims');
  const email = payload.email;
  if (typeof email !== 'string' || !email.includes('@'))
    throw new IdTokenError('the ID token carries no email; ask for the "email" scope and claim', 'bad_claims');
  // OIDC Core §5.1: absent means the provider says nothing; present and not true means unverified.
  if (payload.email_verified !== undefined && payload.email_verified !== true && payload.email_verified !== 'true')
    throw new IdTokenError('the provider says this email address is not verified', 'email_unverified');
  const name = typeof payload.name === 'string' && payload.name.trim() ? payload.name.trim().slice(0, 100) : null;
  return { subject: payload.sub, email: email.toLowerCase(), name };
}

async function verifyWithRefresh(env: Env, token: string, expect: ExpectedClaims): Promise<JWTPayload> {
  const options = {
    issuer: expect.issuer,
    audience: expect.clientId,
    algorithms: ID_TOKEN_ALGORITHMS,
    clockTolerance: CLOCK_TOLERANCE_S,
    maxTokenAge: MAX_TOKEN_AGE_S,
    requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub', 'nonce'],
  };
  let set = cache.get(expect.jwksUri) ?? (await loadJwks(env, expect.jwksUri));
  try {
    return (await jwtVerify(token, set.verify, options)).payload;
  } catch (e) {
    const unknownKey = e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys;
    if (!unknownKey || Date.now() - set.fetchedAt < REFRESH_COOLDOWN_MS) throw e;
    set = await loadJwks(env, expect.jwksUri);
    return (await jwtVerify(token, set.verify, options)).payload;
  }
}

function classify(e: unknown): IdTokenError {
  if (e instanceof errors.JWTExpired) return new IdTokenError('the ID token has expired', 'expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    // `iat` too old (maxTokenAge) is an expiry too; any other claim is a mismatch.
    if (e.claim === 'iat' && e.reason === 'check_failed') return new IdTokenError('the ID token is too old', 'expired');
    return new IdTokenError(`the ID token's ${e.claim} claim is wrong (${e.reason})`, 'bad_claims');
  }
  if (
    e instanceof errors.JWSSignatureVerificationFailed ||
    e instanceof errors.JWKSNoMatchingKey ||
    e instanceof errors.JOSEAlgNotAllowed ||
    e instanceof errors.JWSInvalid ||
    e instanceof errors.JWTInvalid ||
    e instanceof errors.JOSENotSupported
  )
    return new IdTokenError(
      `the ID token's signature does not verify with the provider's keys (${(e as Error).name})`,
      'bad_signature',
    );
  return new IdTokenError(`the ID token was refused (${(e as Error)?.name ?? 'error'})`, 'bad_signature');
}
