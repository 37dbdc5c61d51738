/**
 * ID token validation (worker/src/sso/id-token.ts) claim by claim, with tokens signed here by
 * `jose` and the JWKS served over HTTP by the stub server, so the provider's key rotation can
 * be staged: a token under a key id the cached JWKS lacks makes one fresh fetch, but not more
 * than once per 30 s. The whole sign-in against a real provider is in sso.test.ts.
 */
import { env } from 'cloudflare:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { requests, script, stubUrl, uniquePath } from '../../connectors/testing/stub-client';
import type { Env } from '../src/env';
import { IdTokenError, verifyIdToken } from '../src/sso/id-token';

const ISSUER = 'https://idp.example.test';
const CLIENT = 'automate-client';
const NONCE = 'nonce-123';

type Key = { kid: string; alg: string; privateKey: CryptoKey; jwk: Record<string, unknown> };
async function key(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<Key> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' } };
}

const nowS = () => Math.floor(Date.now() / 1000);
const claims = (over: JWTPayload = {}): JWTPayload => ({
  iss: ISSUER,
  aud: CLIENT,
  sub: 'user-1',
  email: 'Ann@Acme.test',
  email_verified: true,
  nonce: NONCE,
  iat: nowS(),
  exp: nowS() + 300,
  ...over,
});
const sign = (k: Key, payload: JWTPayload = claims()) =>
  new SignJWT(payload).setProtectedHeader({ alg: k.alg, kid: k.kid }).sign(k.privateKey);

let rs: Key;
let es: Key;
let rotated: Key;

beforeAll(async () => {
  [rs, es, rotated] = await Promise.all([key('rs-1'), key('es-1', 'ES256'), key('rs-2')]);
});

afterEach(() => {
  vi.useRealTimers();
});

/** A JWKS URL of our own on the stub, answering these key sets in turn (the last one repeats). */
async function jwksServing(...sets: Key[][]) {
  const path = uniquePath('/http');
  await script(
    path,
    sets.map((keys) => ({ status: 200, body: { keys: keys.map((k) => k.jwk) } })),
    'repeat-last',
  );
  return { path, url: `${stubUrl()}${path}` };
}

const verify = (token: string, jwksUri: string, nonce = NONCE) =>
  verifyIdToken(env as unknown as Env, token, { issuer: ISSUER, clientId: CLIENT, nonce, jwksUri });

async function refusal(p: Promise<unknown>): Promise<IdTokenError> {
  const e = await p.then(
    () => null,
    (err) => err,
  );
  expect(e).toBeInstanceOf(IdTokenError);
  return e as IdTokenError;
}

describe('verifyIdToken', () => {
  it('accepts RS256 and ES256 tokens and lower-cases the email', async () => {
    const { url } = await jwksServing([rs, es]);
    expect(await verify(await sign(rs), url)).toEqual({ subject: 'user-1', email: 'ann@acme.test', name: null });
    expect((await verify(await sign(es), url)).subject).toBe('user-1');
  });

  it('refetches the JWKS for an unknown key id, at most once per 30 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { path, url } = await jwksServing([rs], [rs, rotated]);
    expect((await verify(await sign(rs), url)).subject).toBe('user-1');
    // The provider rotated just now: within the cooldown the cached set stands, and the token is refused.
    expect((await refusal(verify(await sign(rotated), url))).reason).toBe('bad_signature');
    expect(await requests(path)).toHaveLength(1);
    vi.setSystemTime(Date.now() + 31_000);
    expect((await verify(await sign(rotated), url)).subject).toBe('user-1');
    expect(await requests(path)).toHaveLength(2);
    // Known keys do not refetch.
    await verify(await sign(rs), url);
    expect(await requests(path)).toHaveLength(2);
  });

  it('refuses a token signed by a key the provider never published', async () => {
    const { url } = await jwksServing([rs]);
    const impostor = await key('rs-1');
    expect((await refusal(verify(await sign(impostor), url))).reason).toBe('bad_signature');
  });

  it('refuses unsigned and HMAC tokens', async () => {
    const { url } = await jwksServing([rs]);
    const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const none = `${b64({ alg: 'none' })}.${b64(claims())}.`;
    expect((await refusal(verify(none, url))).reason).toBe('bad_signature');
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await refusal(verify(hs, url))).reason).toBe('bad_signature');
  });

  // Overrides are made when each case runs: times computed at collection would drift under load.
  it.each([
    ['expired', () => ({ exp: nowS() - 120 }), 'expired'],
    // 10 minutes plus the 60 s of allowed clock skew, plus a minute.
    ['issued more than 10 minutes ago', () => ({ iat: nowS() - 12 * 60, exp: nowS() + 60 }), 'expired'],
    ['for another client', () => ({ aud: 'someone-else' }), 'bad_claims'],
    ['from another issuer', () => ({ iss: 'https://evil.example.test' }), 'bad_claims'],
    ['with several audiences and no azp', () => ({ aud: [CLIENT, 'other'] }), 'bad_claims'],
    ['with no email', () => ({ email: undefined }), 'bad_claims'],
    ['with no nonce', () => ({ nonce: undefined }), 'bad_claims'],
    ['with an unverified email', () => ({ email_verified: false }), 'email_unverified'],
    ['with another nonce', () => ({ nonce: 'replayed' }), 'bad_nonce'],
  ] as const)('refuses a token %s', async (_what, over, reason) => {
    const { url } = await jwksServing([rs]);
    const payload = claims(over() as JWTPayload);
    for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
    expect((await refusal(verify(await sign(rs, payload), url))).reason).toBe(reason);
  });

  it('accepts several audiences when azp is this client, and a missing email_verified', async () => {
    const { url } = await jwksServing([rs]);
    const payload = claims({ aud: [CLIENT, 'other'], azp: CLIENT });
    delete payload.email_verified;
    expect((await verify(await sign(rs, payload), url)).email).toBe('ann@acme.test');
  });
});
