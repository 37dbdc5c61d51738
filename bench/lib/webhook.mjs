/**
 * Standard Webhooks signing in plain Node (the same algorithm as signStandardWebhook in
 * worker/src/triggers/webhook-verify.ts): HMAC-SHA256 over `${id}.${timestamp}.${body}`
 * keyed with the base64-decoded part of the `whsec_` secret, sent as `v1,<base64>`.
 */
import { createHmac, randomUUID } from 'node:crypto';

export function signStandardWebhook(secret, id, timestamp, body) {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The i-th delivery: unique webhook-id, a fresh timestamp, a body whose total passes the condition. */
export function delivery(hookId, secret, i, tag) {
  const id = `msg_${tag}_${i}_${randomUUID()}`;
  const body = JSON.stringify({
    id: `ord-${tag}-${i}`,
    total: 100 + (i % 900),
    customer: { id: `C-${i % 97}` },
    items: [{ sku: `SKU-${i % 13}`, quantity: 1 + (i % 3) }],
  });
  const ts = Math.floor(Date.now() / 1000);
  return {
    method: 'POST',
    path: `/hooks/${hookId}`,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(secret, id, ts, body),
    },
    body,
  };
}
