/**
 * The mail interface's transports and configuration: the HTTP mail API against the local
 * stub speaking Resend's protocol, Cloudflare's send_email binding as miniflare runs it,
 * the outbox, templates that escape what users typed, and failures logged without the link.
 */
import { createExecutionContext, env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app';
import { createDb } from '../src/db/client';
import type { Env } from '../src/env';
import { mailSetup, sendMail } from '../src/mail/mailer';
import { invitationMail, resetPasswordMail, verifyEmailMail } from '../src/mail/templates';
import { BASE, outbox } from './helpers/api';

const db = () => createDb(env.DB);
const LINK = 'https://automate.example/studio/reset#token=SECRET-LINK-TOKEN-0123456789abcdef';
const message = (to = 'someone@example.com') => resetPasswordMail({ to, link: LINK, minutes: 30 });
const production = (changed: Partial<Env>) => ({ ...env, ENVIRONMENT: 'production', ...changed }) as Env;

async function recorded(path: string) {
  return (await (await fetch(`${env.STUB_URL}/__control/requests?path=${encodeURIComponent(path)}`)).json()) as any[];
}

afterEach(() => vi.restoreAllMocks());

describe('the HTTP mail API transport', () => {
  const http = (ns: string, extra: Partial<Env> = {}) =>
    production({
      MAIL_TRANSPORT: 'http',
      MAIL_FROM: 'Automate <no-reply@automate.example>',
      MAIL_HTTP_URL: `${env.STUB_URL}/mail/${ns}`,
      MAIL_HTTP_KEY_SECRET: 'MAIL_API_KEY',
      MAIL_API_KEY: 'stub-mail-key',
      ...extra,
    } as Partial<Env>);

  it('posts the message as Resend-style JSON with the key from the named secret', async () => {
    expect(await sendMail(http('ok'), db(), message('ada@example.com'), 'req_1')).toBe(true);
    const [req] = await recorded('/mail/ok/emails');
    expect(req.headers.authorization).toBe('Bearer stub-mail-key');
    expect(req.body).toMatchObject({
      from: 'Automate <no-reply@automate.example>',
      to: ['ada@example.com'],
      subject: 'Reset your Automate password',
    });
    expect(req.body.text).toContain(LINK);
    expect(req.body.html).toContain('<a href="https://automate.example/studio/reset#token=SECRET-LINK-TOKEN');
  });

  it('reports a refusal and an unreachable API in the log, without the link or the content', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await sendMail(http('badkey', { MAIL_API_KEY: 'wrong' } as Partial<Env>), db(), message(), 'req_2')).toBe(
      false,
    );
    // The connection dropped mid-request: a network error for the transport.
    await fetch(`${env.STUB_URL}/__control/script`, {
      method: 'POST',
      body: JSON.stringify({ path: '/mail/drop/emails', responses: [{ status: 200, drop: true }] }),
    });
    expect(await sendMail(http('drop'), db(), message(), 'req_3')).toBe(false);
    const lines = logged.mock.calls.map((c) => String(c[0]));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toMatchObject({
      event: 'mail.failed',
      transport: 'http',
      template: 'reset_password',
      reason: 'mail API answered 401 (invalid_api_key)',
      requestId: 'req_2',
    });
    expect(JSON.parse(lines[1]).reason).toMatch(/^mail API unreachable/);
    for (const line of lines) {
      expect(line).not.toContain('SECRET-LINK-TOKEN');
      expect(line).not.toContain('stub-mail-key');
      expect(line).not.toContain('Choose a new password');
    }
  });

  it('refuses a key secret tenants could be granted, and missing settings, by name', () => {
    expect(mailSetup(http('x', { MAIL_HTTP_KEY_SECRET: 'AUTOMATE_MAIL_KEY' } as Partial<Env>), db())).toEqual({
      problem: expect.stringContaining('must not name an AUTOMATE_* variable'),
    });
    expect(mailSetup(http('x', { MAIL_API_KEY: undefined } as Partial<Env>), db())).toEqual({
      problem: 'the secret MAIL_API_KEY (MAIL_HTTP_KEY_SECRET) is not set',
    });
    expect(mailSetup(http('x', { MAIL_HTTP_URL: 'ftp://x' }), db())).toEqual({
      problem: 'MAIL_HTTP_URL is not an http(s) URL',
    });
  });
});

describe("Cloudflare's send_email binding", () => {
  it('sends through the MAIL binding with the structured form', async () => {
    const cf = production({ MAIL_TRANSPORT: 'cloudflare', MAIL_FROM: 'no-reply@automate.example' });
    expect(mailSetup(cf, db())).toMatchObject({ transport: { name: 'cloudflare' } });
    expect(await sendMail(cf, db(), message('grace@example.com'), 'req_4')).toBe(true);
  });

  it('says so when the binding is missing', () => {
    const cf = production({ MAIL_TRANSPORT: 'cloudflare', MAIL_FROM: 'no-reply@automate.example', MAIL: undefined });
    expect(mailSetup(cf, db())).toEqual({ problem: expect.stringContaining('send_email binding MAIL') });
  });
});

describe('configuration', () => {
  it('uses the outbox in development and tests, and nothing unless configured in production', async () => {
    expect(mailSetup({ ...env, ENVIRONMENT: 'development' } as Env, db())).toMatchObject({
      transport: { name: 'outbox' },
    });
    expect(mailSetup(production({ MAIL_TRANSPORT: undefined }), db())).toEqual({
      problem: expect.stringContaining('MAIL_TRANSPORT is not set'),
    });
    expect(mailSetup(production({ MAIL_TRANSPORT: 'outbox' }), db())).toEqual({
      problem: 'MAIL_TRANSPORT=outbox only works in development and tests',
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await sendMail(production({ MAIL_TRANSPORT: undefined }), db(), message(), 'req_5')).toBe(false);
    expect(JSON.parse(String(logged.mock.calls[0][0]))).toMatchObject({ event: 'mail.not_configured' });
    expect(String(logged.mock.calls[0][0])).not.toContain('SECRET-LINK-TOKEN');
  });

  it('prints one line per message, link included, in the development log only', async () => {
    const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await sendMail({ ...env, ENVIRONMENT: 'development' } as Env, db(), message('dev@example.com'), null)).toBe(
      true,
    );
    expect(await sendMail(env, db(), message('test@example.com'), null)).toBe(true);
    expect(printed.mock.calls.map((c) => String(c[0]))).toEqual([
      `[mail] to=dev@example.com subject="Reset your Automate password" link=${LINK}`,
    ]);
  });

  it('stores outbox messages where GET /api/dev/outbox lists them', async () => {
    expect(await sendMail(env, db(), message('outbox-check@example.com'), null)).toBe(true);
    const [m] = await outbox('outbox-check@example.com');
    expect(m).toMatchObject({ to: 'outbox-check@example.com', template: 'reset_password' });
    expect(m.text).toContain(LINK);
  });

  it('has no dev outbox route in production: 404 like any unknown path', async () => {
    const res = await createApp().request(`${BASE}/api/dev/outbox`, {}, production({}), createExecutionContext());
    expect(res.status).toBe(404);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('route_not_found');
    expect(JSON.stringify(body)).not.toContain('outbox-check');
  });
});

describe('templates', () => {
  it('escape what users typed in the HTML and keep the text on one line per field', () => {
    const m = invitationMail({
      to: 'new@example.com',
      link: 'https://a.example/studio/invite#token=abc',
      tenantName: '<script>alert(1)</script> & "Co"\nBcc: evil@example.com',
      inviter: "O'Brien <img src=x onerror=alert(1)>",
      role: 'viewer',
      days: 7,
    });
    expect(m.html).not.toContain('<script>');
    expect(m.html).not.toContain('<img');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(m.html).toContain('O&#39;Brien &lt;img');
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.text).toContain('https://a.example/studio/invite#token=abc');
    expect(m.text.split('\n')[0]).toContain('Bcc: evil@example.com'); // in the sentence, not a line of its own
  });

  it('come in text and HTML with the link in both', () => {
    for (const m of [
      verifyEmailMail({ to: 'a@example.com', link: LINK, hours: 48 }),
      resetPasswordMail({ to: 'a@example.com', link: LINK, minutes: 30 }),
    ]) {
      expect(m.text).toContain(LINK);
      expect(m.html).toContain(`href="${LINK}"`);
      expect(m.html).toMatch(/^<!doctype html>/);
    }
  });
});
