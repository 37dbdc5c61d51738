// Types for webhook.mjs, for its TypeScript user (e2e/crash-recovery.test.ts).

/** `v1,<base64 HMAC-SHA256>` over `${id}.${timestamp}.${body}` with a `whsec_` secret. */
export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string): string;

export function delivery(
  hookId: string,
  secret: string,
  i: number,
  tag: string,
): { method: string; path: string; headers: Record<string, string>; body: string };
