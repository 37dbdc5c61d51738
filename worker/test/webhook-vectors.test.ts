/**
 * Signature checks against values published by each scheme's own specification or docs,
 * never against signatures made by our `sign*` helpers: a verifier that agrees only
 * with itself could have the delimiter, the encoding or the key decoding wrong.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TOLERANCE_SECONDS, verifyWebhook } from '../src/triggers/webhook-verify';

const at = (seconds: number) => seconds * 1000;

describe('Standard Webhooks: the reference vector', () => {
  // Source: the Standard Webhooks reference libraries' "sign function works" test,
  // https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/javascript/src/webhook.test.ts
  // (the same values appear in the PHP, Python, Go and Rust libraries' tests).
  const V = {
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  // Another key for the rotation cases, signed with node:crypto outside this code base:
  // createHmac('sha256', base64decode(key)).update(`${id}.${timestamp}.${body}`).digest('base64').
  const OTHER = {
    secret: 'whsec_cm90YXRlZC1zdGFuZGFyZC13ZWJob29rcy1rZXktMDAwMQ==',
    signature: 'v1,5zM4w/QwTiA7EG+38itkbieeRaYtrJNQnN+ZU+LB0dE=',
  };
  const headers = (over: Record<string, string> = {}) =>
    new Headers({
      'webhook-id': V.id,
      'webhook-timestamp': String(V.timestamp),
      'webhook-signature': V.signature,
      ...over,
    });
  const verify = (h: Headers, opts: { body?: string; secrets?: string | string[]; now?: number } = {}) =>
    verifyWebhook('standard-webhooks', h, opts.body ?? V.body, opts.secrets ?? V.secret, opts.now ?? at(V.timestamp));

  it('accepts the published delivery, with or without the whsec_ prefix', async () => {
    expect(await verify(headers())).toEqual({ ok: true, deliveryId: V.id });
    expect((await verify(headers(), { secrets: V.secret.slice('whsec_'.length) })).ok).toBe(true);
  });

  it('accepts a list of signatures with one valid (the spec: space-delimited, any may match)', async () => {
    // The reference library's "multi sig payload is valid" case: wrong v1, a v2, the valid one, another wrong v1.
    const list = [
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
      V.signature,
      'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=',
    ].join(' ');
    expect((await verify(headers({ 'webhook-signature': list }))).ok).toBe(true);
    // The sender rotating: old and new key both sign; we hold either one.
    const both = `${OTHER.signature} ${V.signature}`;
    expect((await verify(headers({ 'webhook-signature': both }), { secrets: V.secret })).ok).toBe(true);
    expect((await verify(headers({ 'webhook-signature': both }), { secrets: OTHER.secret })).ok).toBe(true);
  });

  it('refuses a tampered body, id, timestamp or signature, and a signature under another version', async () => {
    const refused = [
      await verify(headers(), { body: '{"test": 2432232315}' }),
      await verify(headers(), { body: `${V.body} ` }),
      await verify(headers({ 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJel' })),
      // A timestamp moved by one second, with the clock moved along so only the signature can fail.
      await verify(headers({ 'webhook-timestamp': String(V.timestamp + 1) })),
      await verify(headers({ 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE' })),
      await verify(headers({ 'webhook-signature': 'v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' })),
      await verify(headers({ 'webhook-signature': V.signature.replace('v1,', 'v2,') })),
      await verify(headers({ 'webhook-signature': 'v1,' })),
      await verify(headers(), { secrets: OTHER.secret }),
    ];
    for (const v of refused) expect(v).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('refuses missing headers', async () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const h = headers();
      h.delete(name);
      expect(await verify(h)).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
    }
  });

  it('holds the timestamp to five minutes either way', async () => {
    const edge = TOLERANCE_SECONDS;
    expect(TOLERANCE_SECONDS).toBe(300);
    expect((await verify(headers(), { now: at(V.timestamp + edge) })).ok).toBe(true);
    expect((await verify(headers(), { now: at(V.timestamp - edge) })).ok).toBe(true);
    for (const now of [at(V.timestamp + edge + 1), at(V.timestamp - edge - 1)])
      expect(await verify(headers(), { now })).toEqual({
        ok: false,
        reason: 'webhook-timestamp outside the 5 minute tolerance',
      });
    expect((await verify(headers({ 'webhook-timestamp': 'hello' }))).ok).toBe(false);
  });

  it('with two secrets held (our rotation window), accepts a signature under either and refuses a third', async () => {
    expect((await verify(headers(), { secrets: [OTHER.secret, V.secret] })).ok).toBe(true);
    expect(
      (await verify(headers({ 'webhook-signature': OTHER.signature }), { secrets: [OTHER.secret, V.secret] })).ok,
    ).toBe(true);
    expect((await verify(headers(), { secrets: [OTHER.secret, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'] })).ok).toBe(
      false,
    );
    expect(await verify(headers(), { secrets: [] })).toEqual({ ok: false, reason: 'no signing secret configured' });
  });
});

describe('Stripe: the documented scheme', () => {
  // Stripe's docs (https://docs.stripe.com/webhooks#verify-manually) publish the header's
  // form but no secret and body to reproduce it:
  //   Stripe-Signature: t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39
  // So this vector is constructed from the documented algorithm (hex HMAC-SHA256 with the
  // endpoint secret over `${t}.${raw body}`; only v1 counts, v0 is a test-mode decoy),
  // computed with node:crypto outside this code base, at the docs' timestamp.
  const V = {
    secret: 'whsec_test_secret',
    t: 1492774577,
    body: '{"id":"evt_test_webhook","object":"event"}',
    v1: '88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a',
    // The same event signed with a second secret (the sender mid-rotation).
    v1Previous: '6025b15705abdc92a560be993ce930fa9d11b7d82a11141c38ea376cb0cd18a9',
    previousSecret: 'whsec_previous_secret',
    // The docs' v0 value, carried along as Stripe sends it in test mode.
    v0: '6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39',
  };
  const header = (value: string) => new Headers({ 'stripe-signature': value });
  const verify = (h: Headers, opts: { body?: string; secrets?: string | string[]; now?: number } = {}) =>
    verifyWebhook('stripe', h, opts.body ?? V.body, opts.secrets ?? V.secret, opts.now ?? at(V.t));

  it('accepts t=,v1=,v0= as sent and takes the event id as delivery id', async () => {
    expect(await verify(header(`t=${V.t},v1=${V.v1},v0=${V.v0}`))).toEqual({
      ok: true,
      deliveryId: 'evt_test_webhook',
    });
  });

  it('accepts several v1 signatures when one matches (Stripe signs with both secrets while one is rolled)', async () => {
    const both = header(`t=${V.t},v1=${V.v1Previous},v1=${V.v1},v0=${V.v0}`);
    expect((await verify(both)).ok).toBe(true);
    expect((await verify(both, { secrets: V.previousSecret })).ok).toBe(true);
    // Our own rotation window: the sender still signs with only the old secret.
    expect((await verify(header(`t=${V.t},v1=${V.v1Previous}`), { secrets: [V.secret, V.previousSecret] })).ok).toBe(
      true,
    );
  });

  it('refuses a tampered body, timestamp or signature, and a lone v0 (no downgrade)', async () => {
    const refused = [
      await verify(header(`t=${V.t},v1=${V.v1}`), { body: '{"id":"evt_test_webhook","object":"event" }' }),
      await verify(header(`t=${V.t + 1},v1=${V.v1}`), { now: at(V.t + 1) }),
      await verify(header(`t=${V.t},v1=${V.v1.replace(/^8/, '9')}`)),
      await verify(header(`t=${V.t},v1=${V.v1.slice(0, -1)}`)),
      await verify(header(`t=${V.t},v0=${V.v1}`)),
      await verify(header(`t=${V.t},v1=${V.v1}`), { secrets: 'whsec_other_secret' }),
    ];
    expect(refused[0]).toEqual({ ok: false, reason: 'signature does not match' });
    expect(refused[1]).toEqual({ ok: false, reason: 'signature does not match' });
    expect(refused[2]).toEqual({ ok: false, reason: 'signature does not match' });
    expect(refused[3]).toEqual({ ok: false, reason: 'signature does not match' });
    expect(refused[4]).toEqual({ ok: false, reason: 'Stripe-Signature lacks t= or v1=' });
    expect(refused[5]).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('holds t= to five minutes either way (Stripe libraries default to 300 s)', async () => {
    const h = header(`t=${V.t},v1=${V.v1}`);
    expect((await verify(h, { now: at(V.t + 300) })).ok).toBe(true);
    expect((await verify(h, { now: at(V.t - 300) })).ok).toBe(true);
    expect(await verify(h, { now: at(V.t + 301) })).toEqual({
      ok: false,
      reason: 'Stripe-Signature timestamp outside the 5 minute tolerance',
    });
    expect((await verify(h, { now: at(V.t - 301) })).ok).toBe(false);
  });
});

describe('GitHub: the documented test values', () => {
  // Source: "Testing the webhook payload validation",
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
  const V = {
    secret: "It's a Secret to Everybody",
    body: 'Hello, World!',
    header: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
  };
  const headers = (signature: string) =>
    new Headers({ 'x-hub-signature-256': signature, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
  const verify = (h: Headers, opts: { body?: string; secrets?: string | string[] } = {}) =>
    verifyWebhook('github', h, opts.body ?? V.body, opts.secrets ?? V.secret);

  it('accepts the documented signature and takes X-GitHub-Delivery as delivery id', async () => {
    expect(await verify(headers(V.header))).toEqual({ ok: true, deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    // GitHub signs no timestamp, so the same delivery verifies whenever it arrives; its delivery id stops replays.
    expect((await verifyWebhook('github', headers(V.header), V.body, V.secret, Date.UTC(2030, 0, 1))).ok).toBe(true);
  });

  it('accepts it during our rotation window, whichever secret is the current one', async () => {
    expect((await verify(headers(V.header), { secrets: ['a-new-secret-value', V.secret] })).ok).toBe(true);
  });

  it('refuses a tampered body or signature, another secret, and the wrong prefix', async () => {
    expect(await verify(headers(V.header), { body: 'Hello, World?' })).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect((await verify(headers(V.header.replace(/7$/, '8')))).ok).toBe(false);
    expect((await verify(headers(V.header.toUpperCase().replace('SHA256=', 'sha256=')))).ok).toBe(false);
    expect((await verify(headers(V.header), { secrets: "It's a Secret to Everybody!" })).ok).toBe(false);
    expect(await verify(headers(V.header.replace('sha256=', 'sha1=')))).toEqual({
      ok: false,
      reason: 'missing X-Hub-Signature-256 header',
    });
  });
});

describe('comparisons', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are constant-time and compare every signature with every secret, match or not', async () => {
    const spy = vi.spyOn(crypto.subtle, 'timingSafeEqual');
    const list = `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=`;
    const h = new Headers({
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': list,
    });
    const secrets = [
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'whsec_cm90YXRlZC1zdGFuZGFyZC13ZWJob29rcy1rZXktMDAwMQ==',
    ];
    const verdict = await verifyWebhook('standard-webhooks', h, '{"test": 2432232314}', secrets, at(1614265330));
    expect(verdict.ok).toBe(true);
    // 2 signatures x 2 secrets: the match on the first pair does not end the loop early.
    expect(spy).toHaveBeenCalledTimes(4);
  });
});
