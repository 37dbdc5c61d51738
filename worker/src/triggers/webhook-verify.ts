/**
 * Webhook signatures (docs/webhooks.md): Standard Webhooks, Stripe, GitHub. Every comparison
 * is constant-time; timestamps older or newer than five minutes are refused so a
 * captured delivery cannot be replayed later. A header may carry several signatures (the
 * sender rotating its secret) and we may hold several secrets (ours being rotated, see
 * resolveSigningSecrets): one match between any of them is enough.
 */
import { fromBase64, timingSafeEqual, toBase64, toHex } from '../lib/crypto';

export const TOLERANCE_SECONDS = 5 * 60;
const encoder = new TextEncoder();

export type Scheme = 'standard-webhooks' | 'stripe' | 'github' | 'none';

export type Verdict = { ok: true; deliveryId: string | null } | { ok: false; reason: string };

async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, encoder.encode(message)));
}

function freshTimestamp(seconds: number, now: number): boolean {
  return Number.isFinite(seconds) && Math.abs(now / 1000 - seconds) <= TOLERANCE_SECONDS;
}

/** `whsec_<base64>`: the key is the decoded bytes (a bare base64 secret is accepted too). */
function standardKey(secret: string): Uint8Array {
  return fromBase64(secret.startsWith('whsec_') ? secret.slice(6) : secret);
}

/** Whether any expected signature equals any received one; compares every pair, each in constant time. */
function anyMatch(received: string[], expected: string[]): boolean {
  let match = false;
  for (const e of expected) for (const r of received) match = timingSafeEqual(r, e) || match;
  return match;
}

async function standardWebhooks(headers: Headers, body: string, secrets: string[], now: number): Promise<Verdict> {
  const id = headers.get('webhook-id');
  const ts = headers.get('webhook-timestamp');
  const sigs = headers.get('webhook-signature');
  if (!id || !ts || !sigs)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!freshTimestamp(Number(ts), now))
    return { ok: false, reason: 'webhook-timestamp outside the 5 minute tolerance' };
  const expected = await Promise.all(
    secrets.map(async (secret) => toBase64(await hmac(standardKey(secret), `${id}.${ts}.${body}`))),
  );
  // Space-separated `v1,<base64>` entries; other versions (e.g. `v1a` asymmetric) are not ours to check.
  const received = sigs
    .split(' ')
    .map((s) => s.split(','))
    .filter(([version, sig]) => version === 'v1' && !!sig)
    .map(([, sig]) => sig);
  return anyMatch(received, expected)
    ? { ok: true, deliveryId: id }
    : { ok: false, reason: 'signature does not match' };
}

async function stripe(headers: Headers, body: string, secrets: string[], now: number): Promise<Verdict> {
  const header = headers.get('stripe-signature');
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const v1 = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
  if (!t || !v1.length) return { ok: false, reason: 'Stripe-Signature lacks t= or v1=' };
  if (!freshTimestamp(Number(t), now))
    return { ok: false, reason: 'Stripe-Signature timestamp outside the 5 minute tolerance' };
  // Only v1 counts: Stripe's test-mode v0 is a decoy, and honouring it would allow a downgrade.
  const expected = await Promise.all(
    secrets.map(async (secret) => toHex(await hmac(encoder.encode(secret), `${t}.${body}`))),
  );
  if (!anyMatch(v1, expected)) return { ok: false, reason: 'signature does not match' };
  // Stripe's delivery id is the event's id; retries of one event carry the same id.
  let eventId: string | null = null;
  try {
    eventId = (JSON.parse(body) as { id?: string }).id ?? null;
  } catch {
    eventId = null;
  }
  return { ok: true, deliveryId: eventId };
}

async function github(headers: Headers, body: string, secrets: string[]): Promise<Verdict> {
  const header = headers.get('x-hub-signature-256');
  if (!header?.startsWith('sha256=')) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  const expected = await Promise.all(secrets.map(async (secret) => toHex(await hmac(encoder.encode(secret), body))));
  if (!anyMatch([header.slice(7)], expected)) return { ok: false, reason: 'signature does not match' };
  // GitHub signs no timestamp: replays are stopped by the delivery id instead.
  return { ok: true, deliveryId: headers.get('x-github-delivery') };
}

/**
 * `secrets`: every value the signature may be made with, e.g. the current and the
 * previous one during a rotation window; empty or null means none is configured.
 */
export async function verifyWebhook(
  scheme: Scheme,
  headers: Headers,
  body: string,
  secrets: string | readonly string[] | null,
  now = Date.now(),
): Promise<Verdict> {
  if (scheme === 'none') return { ok: true, deliveryId: headers.get('idempotency-key') ?? headers.get('webhook-id') };
  const candidates = (typeof secrets === 'string' ? [secrets] : [...(secrets ?? [])]).filter(Boolean);
  if (!candidates.length) return { ok: false, reason: 'no signing secret configured' };
  if (scheme === 'standard-webhooks') return standardWebhooks(headers, body, candidates, now);
  if (scheme === 'stripe') return stripe(headers, body, candidates, now);
  return github(headers, body, candidates);
}

/** Signs like a sender would: used by tests, the benchmark and the docs' examples. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `v1,${toBase64(await hmac(standardKey(secret), `${id}.${timestamp}.${body}`))}`;
}
export async function signStripe(secret: string, timestamp: number, body: string): Promise<string> {
  return `t=${timestamp},v1=${toHex(await hmac(encoder.encode(secret), `${timestamp}.${body}`))}`;
}
export async function signGithub(secret: string, body: string): Promise<string> {
  return `sha256=${toHex(await hmac(encoder.encode(secret), body))}`;
}
