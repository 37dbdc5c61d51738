/**
 * Webhook signatures (CONTRACT §5): Standard Webhooks, Stripe, GitHub. Every comparison
 * is constant-time; timestamps older or newer than five minutes are refused so a
 * captured delivery cannot be replayed later.
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

async function standardWebhooks(headers: Headers, body: string, secret: string, now: number): Promise<Verdict> {
  const id = headers.get('webhook-id');
  const ts = headers.get('webhook-timestamp');
  const sigs = headers.get('webhook-signature');
  if (!id || !ts || !sigs)
    return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!freshTimestamp(Number(ts), now))
    return { ok: false, reason: 'webhook-timestamp outside the 5 minute tolerance' };
  const expected = toBase64(await hmac(standardKey(secret), `${id}.${ts}.${body}`));
  // Several signatures may be sent during the sender's own secret rotation.
  const match = sigs.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    return version === 'v1' && sig !== undefined && timingSafeEqual(sig, expected);
  });
  return match ? { ok: true, deliveryId: id } : { ok: false, reason: 'signature does not match' };
}

async function stripe(headers: Headers, body: string, secret: string, now: number): Promise<Verdict> {
  const header = headers.get('stripe-signature');
  if (!header) return { ok: false, reason: 'missing Stripe-Signature header' };
  const parts = header.split(',').map((p) => p.split('=') as [string, string]);
  const t = parts.find(([k]) => k === 't')?.[1];
  const v1 = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
  if (!t || !v1.length) return { ok: false, reason: 'Stripe-Signature lacks t= or v1=' };
  if (!freshTimestamp(Number(t), now))
    return { ok: false, reason: 'Stripe-Signature timestamp outside the 5 minute tolerance' };
  const expected = toHex(await hmac(encoder.encode(secret), `${t}.${body}`));
  if (!v1.some((sig) => timingSafeEqual(sig, expected))) return { ok: false, reason: 'signature does not match' };
  // Stripe's delivery id is the event's id; retries of one event carry the same id.
  let eventId: string | null = null;
  try {
    eventId = (JSON.parse(body) as { id?: string }).id ?? null;
  } catch {
    eventId = null;
  }
  return { ok: true, deliveryId: eventId };
}

async function github(headers: Headers, body: string, secret: string): Promise<Verdict> {
  const header = headers.get('x-hub-signature-256');
  if (!header?.startsWith('sha256=')) return { ok: false, reason: 'missing X-Hub-Signature-256 header' };
  const expected = toHex(await hmac(encoder.encode(secret), body));
  if (!timingSafeEqual(header.slice(7), expected)) return { ok: false, reason: 'signature does not match' };
  // GitHub signs no timestamp: replays are stopped by the delivery id instead.
  return { ok: true, deliveryId: headers.get('x-github-delivery') };
}

export async function verifyWebhook(
  scheme: Scheme,
  headers: Headers,
  body: string,
  secret: string | null,
  now = Date.now(),
): Promise<Verdict> {
  if (scheme === 'none') return { ok: true, deliveryId: headers.get('idempotency-key') ?? headers.get('webhook-id') };
  if (!secret) return { ok: false, reason: 'no signing secret configured' };
  if (scheme === 'standard-webhooks') return standardWebhooks(headers, body, secret, now);
  if (scheme === 'stripe') return stripe(headers, body, secret, now);
  return github(headers, body, secret);
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
