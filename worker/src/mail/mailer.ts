/**
 * The one way the Worker sends mail. MAIL_TRANSPORT picks the transport (docs/accounts.md):
 * `outbox` (the default in development and tests, refused elsewhere), `cloudflare` (the
 * send_email binding MAIL) or `http` (MAIL_HTTP_URL + the secret named by
 * MAIL_HTTP_KEY_SECRET). Sending runs after the answer (waitUntil): it never delays a
 * request, never fails it, and so never tells a caller whether an address has an account.
 * Failures are logged with the template and transport, never the link or the content.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import type { Db } from '../db/client';
import type { Env } from '../env';
import { ENV_PREFIX } from '../secrets/env-backend';
import { cloudflareTransport } from './cloudflare-transport';
import { httpTransport } from './http-transport';
import type { MailMessage, MailTransport } from './message';
import { outboxTransport } from './outbox';

export const DEV_FROM = 'Automate <no-reply@automate.localhost>';

/** Development and tests: the outbox is the default and the dev outbox route exists. */
export const isLocalEnvironment = (env: Pick<Env, 'ENVIRONMENT'>) =>
  env.ENVIRONMENT === 'development' || env.ENVIRONMENT === 'test';

export type MailSetup = { transport: MailTransport; from: string } | { problem: string };

export function mailSetup(env: Env, db: Db): MailSetup {
  const local = isLocalEnvironment(env);
  const kind = env.MAIL_TRANSPORT?.trim() || (local ? 'outbox' : '');
  const from = env.MAIL_FROM?.trim() || (local ? DEV_FROM : '');
  if (!kind) return { problem: 'MAIL_TRANSPORT is not set (cloudflare or http; docs/accounts.md)' };
  if (kind === 'outbox') {
    if (!local) return { problem: 'MAIL_TRANSPORT=outbox only works in development and tests' };
    return { transport: outboxTransport(db, { logLine: env.ENVIRONMENT === 'development' }), from };
  }
  if (!from) return { problem: 'MAIL_FROM is not set (e.g. "Automate <no-reply@example.com>")' };
  if (kind === 'cloudflare') {
    if (!env.MAIL) return { problem: 'MAIL_TRANSPORT=cloudflare needs the send_email binding MAIL in wrangler.toml' };
    return { transport: cloudflareTransport(env.MAIL), from };
  }
  if (kind === 'http') {
    const base = env.MAIL_HTTP_URL?.trim();
    const keyName = env.MAIL_HTTP_KEY_SECRET?.trim();
    if (!base || !/^https?:\/\//.test(base)) return { problem: 'MAIL_HTTP_URL is not an http(s) URL' };
    if (!keyName) return { problem: 'MAIL_HTTP_KEY_SECRET (the NAME of the secret with the API key) is not set' };
    // AUTOMATE_* variables can be granted to tenants as env secrets: the platform's key must not be one.
    if (keyName.startsWith(ENV_PREFIX))
      return {
        problem: `MAIL_HTTP_KEY_SECRET must not name an ${ENV_PREFIX}* variable (tenants can be granted those)`,
      };
    const key = (env as unknown as Record<string, unknown>)[keyName];
    if (typeof key !== 'string' || !key) return { problem: `the secret ${keyName} (MAIL_HTTP_KEY_SECRET) is not set` };
    return { transport: httpTransport(base, key), from };
  }
  return { problem: `MAIL_TRANSPORT "${kind}" is not one of outbox, cloudflare, http` };
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** Sends now; true when the transport accepted it. Never throws and never logs the content or link. */
export async function sendMail(env: Env, db: Db, message: MailMessage, requestId: string | null): Promise<boolean> {
  const setup = mailSetup(env, db);
  const base = { template: message.template, toDomain: domainOf(message.to), requestId };
  if ('problem' in setup) {
    console.error(JSON.stringify({ level: 'error', event: 'mail.not_configured', reason: setup.problem, ...base }));
    return false;
  }
  try {
    await setup.transport.send(message, setup.from);
    return true;
  } catch (err) {
    const reason = err instanceof Error && err.name === 'MailSendError' ? err.message : 'unexpected error';
    console.error(
      JSON.stringify({ level: 'error', event: 'mail.failed', transport: setup.transport.name, reason, ...base }),
    );
    return false;
  }
}

/** Sends after the answer has gone (see the file's comment). */
export function deliver(c: Context<AppEnv>, message: MailMessage): void {
  c.executionCtx.waitUntil(sendMail(c.env, c.get('db'), message, c.get('requestId')));
}

/**
 * Where links in mails point. PUBLIC_URL when set (recommended in production: links never
 * depend on a request's Host); otherwise the origin the request came to, which on Cloudflare
 * is one of the Worker's own routes.
 */
export function publicBaseUrl(c: Context<AppEnv>): string {
  const configured = c.env.PUBLIC_URL?.trim().replace(/\/+$/, '');
  return configured || new URL(c.req.url).origin;
}

/** A studio page with the token in the fragment: browsers send fragments neither to servers nor in Referer. */
export const studioLink = (c: Context<AppEnv>, page: 'verify' | 'reset' | 'invite', token: string) =>
  `${publicBaseUrl(c)}/studio/${page}#token=${token}`;
