/** Signature schemes as their senders sign them (docs/webhooks.md#signature-schemes). */
import { describe, expect, it } from 'vitest';
import { signGithub, signStandardWebhook, signStripe, verifyWebhook } from '../src/triggers/webhook-verify';

const body = JSON.stringify({ id: 'evt_123', type: 'order.created', total: 10 });
const now = Date.UTC(2026, 10, 26, 12, 0, 0);
const ts = Math.floor(now / 1000);

describe('standard-webhooks', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const headers = async (over: Record<string, string> = {}) =>
    new Headers({
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': await signStandardWebhook(secret, 'msg_1', ts, body),
      ...over,
    });

  it('accepts a valid signature and returns the delivery id', async () => {
    expect(await verifyWebhook('standard-webhooks', await headers(), body, secret, now)).toEqual({
      ok: true,
      deliveryId: 'msg_1',
    });
  });
  it('accepts when one of several signatures matches (sender rotating its secret)', async () => {
    const good = (await headers()).get('webhook-signature')!;
    expect(
      (
        await verifyWebhook(
          'standard-webhooks',
          await headers({ 'webhook-signature': `v1,AAAA ${good}` }),
          body,
          secret,
          now,
        )
      ).ok,
    ).toBe(true);
  });
  it('refuses another secret, another body, an old timestamp', async () => {
    expect(
      (await verifyWebhook('standard-webhooks', await headers(), body, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', now))
        .ok,
    ).toBe(false);
    expect((await verifyWebhook('standard-webhooks', await headers(), `${body} `, secret, now)).ok).toBe(false);
    expect((await verifyWebhook('standard-webhooks', await headers(), body, secret, now + 301_000)).ok).toBe(false);
  });
});

describe('stripe', () => {
  const secret = 'whsec_stripe_test_secret_123';
  it('accepts a valid Stripe-Signature and takes the event id as delivery id', async () => {
    const h = new Headers({ 'stripe-signature': await signStripe(secret, ts, body) });
    expect(await verifyWebhook('stripe', h, body, secret, now)).toEqual({ ok: true, deliveryId: 'evt_123' });
  });
  it('refuses a wrong signature and a stale timestamp', async () => {
    expect(
      (await verifyWebhook('stripe', new Headers({ 'stripe-signature': `t=${ts},v1=00ff` }), body, secret, now)).ok,
    ).toBe(false);
    const old = new Headers({ 'stripe-signature': await signStripe(secret, ts - 400, body) });
    expect(await verifyWebhook('stripe', old, body, secret, now)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/tolerance/),
    });
  });
});

describe('github', () => {
  const secret = 'gh-hook-secret';
  it('accepts X-Hub-Signature-256 and takes X-GitHub-Delivery as delivery id', async () => {
    const h = new Headers({ 'x-hub-signature-256': await signGithub(secret, body), 'x-github-delivery': 'd-1' });
    expect(await verifyWebhook('github', h, body, secret, now)).toEqual({ ok: true, deliveryId: 'd-1' });
  });
  it('refuses a missing or wrong signature', async () => {
    expect((await verifyWebhook('github', new Headers(), body, secret, now)).ok).toBe(false);
    expect(
      (
        await verifyWebhook(
          'github',
          new Headers({ 'x-hub-signature-256': await signGithub('other', body) }),
          body,
          secret,
          now,
        )
      ).ok,
    ).toBe(false);
  });
});

describe('none', () => {
  it('accepts anything, deduplicating by Idempotency-Key when sent', async () => {
    expect(await verifyWebhook('none', new Headers({ 'idempotency-key': 'k1' }), body, null, now)).toEqual({
      ok: true,
      deliveryId: 'k1',
    });
  });
});
