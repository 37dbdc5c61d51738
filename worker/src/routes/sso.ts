/**
 * Single sign-on (docs/sso.md): the owner's configuration (`/sso`) and the browser's
 * sign-in (`/auth/sso/*`). `start` and `callback` are navigations, not API calls: they
 * answer with redirects. A callback that carries this browser's flow cookie always ends
 * on the studio (signed in, or at the login page with `?sso_error=<reason>`); one without
 * the cookie was never started here and gets a JSON 400.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { recordAudit } from '../audit/audit-log';
import { actorOf } from '../auth/principal';
import { createSession } from '../auth/sessions';
import type { AppEnv } from '../context';
import { AppError } from '../errors';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { accountForSso } from '../sso/sso-accounts';
import {
  callbackUrl,
  finishSignIn,
  SSO_FLOW_COOKIE,
  SSO_FLOW_TTL_MS,
  SsoRefusal,
  startSignIn,
} from '../sso/login-flow';
import { deleteSsoConfig, getSsoConfig, saveSsoConfig, ssoConfigForEmail, type SsoConfig } from '../sso/sso-config';
import { SecretRef } from '../workflows/workflow-file';
import { setSessionCookie } from './auth';

const owner = { role: 'owner' } as const;
const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  // Labels of letters, digits and inner hyphens; a letters-only or punycode (`xn--`) top-level label.
  .regex(
    /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/,
    'a domain such as example.com',
  );

const SsoSettings = z
  .strictObject({
    issuer: z
      .url({ error: 'an https URL such as https://login.example.com' })
      .max(500)
      .openapi({ description: "The provider's issuer identifier, exactly as its discovery document names it" }),
    clientId: z.string().trim().min(1, 'must not be empty').max(500),
    clientSecret: z
      .unknown()
      .transform((v, ctx) => {
        const ref = SecretRef.safeParse(v);
        if (ref.success) return ref.data;
        ctx.addIssue({
          code: 'custom',
          message:
            typeof v === 'string'
              ? 'must be a secret reference such as {"$secret": "OIDC_CLIENT_SECRET"}, never the value: store the value under Admin › Stored Secrets'
              : 'must be a secret reference such as {"$secret": "OIDC_CLIENT_SECRET"}',
        });
        return z.NEVER;
      })
      .openapi({
        type: 'object',
        properties: {
          $secret: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$' },
          backend: { type: 'string', enum: ['stored', 'env'] },
        },
        required: ['$secret'],
        additionalProperties: false,
        description: 'A reference to a stored (or granted env) secret holding the client secret',
        example: { $secret: 'OIDC_CLIENT_SECRET' },
      }),
    domains: z
      .array(Domain)
      .min(1, 'at least one email domain')
      .max(20)
      .refine((d) => new Set(d).size === d.length, 'list each domain once'),
    defaultRole: z.enum(['admin', 'editor', 'viewer']).openapi({ description: 'Role of just-in-time accounts' }),
    enabled: z.boolean(),
    requireSso: z.boolean().optional().openapi({
      description: "Refuse password sign-in for this team's members whose address is in `domains` (default false)",
    }),
  })
  .openapi('SsoSettings');

const SsoConfigView = z
  .object({
    issuer: z.string(),
    clientId: z.string(),
    clientSecret: z.object({ $secret: z.string(), backend: z.enum(['stored', 'env']).optional() }),
    domains: z.array(z.string()),
    defaultRole: z.enum(['admin', 'editor', 'viewer']),
    enabled: z.boolean(),
    requireSso: z.boolean(),
    tokenAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']),
    updatedAt: z.number(),
  })
  .openapi('SsoConfig');
const SsoAnswer = z
  .object({
    config: SsoConfigView.nullable(),
    redirectUri: z.string().openapi({ description: 'The redirect URI to register with the provider' }),
  })
  .openapi('SsoAnswer');

const view = (c: SsoConfig) => ({
  issuer: c.issuer,
  clientId: c.clientId,
  clientSecret: c.clientSecret,
  domains: c.domains,
  defaultRole: c.defaultRole,
  enabled: c.enabled,
  requireSso: c.requireSso,
  tokenAuthMethod: c.discovery.tokenAuthMethod,
  updatedAt: c.updatedAt,
});

const EmailQuery = z.object({ email: z.email().max(254) });
const CallbackQuery = z.object({
  state: z.string().max(1000).optional(),
  code: z.string().max(4000).optional(),
  error: z.string().max(200).optional(),
});

function meta(c: Context<AppEnv>) {
  return { ip: clientIp(c), requestId: c.get('requestId') };
}

const flowCookie = (c: Context<AppEnv>) => ({
  httpOnly: true,
  // Lax: the provider's redirect back is a top-level GET, which carries Lax cookies.
  sameSite: 'Lax' as const,
  secure: c.env.ENVIRONMENT !== 'development',
  path: '/api/auth/sso',
});

export const ssoRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/sso',
      permission: owner,
      summary: "The team's single sign-on configuration",
      responses: { 200: jsonResponse(SsoAnswer) },
    }),
    async (c) => {
      const config = await getSsoConfig(c.get('db'), c.get('principal')!.tenantId);
      return c.json({ config: config ? view(config) : null, redirectUri: callbackUrl(c.req.url) }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'put',
      path: '/sso',
      permission: owner,
      summary: 'Configure single sign-on (checks the discovery document; audited)',
      request: jsonBody(SsoSettings),
      responses: { 200: jsonResponse(SsoAnswer), 409: { description: 'A domain belongs to another team' } },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const body = c.req.valid('json');
      const config = await saveSsoConfig(
        c.env,
        c.get('db'),
        p.tenantId,
        { ...body, requireSso: body.requireSso ?? false },
        {
          actor: actorOf(p),
          ...meta(c),
        },
      );
      return c.json({ config: view(config), redirectUri: callbackUrl(c.req.url) }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/sso',
      permission: owner,
      summary: 'Remove single sign-on (members keep their accounts; audited)',
      responses: { 200: jsonResponse(z.object({ deleted: z.literal(true) })) },
    }),
    async (c) => {
      const p = c.get('principal')!;
      const deleted = await deleteSsoConfig(c.get('db'), p.tenantId, { actor: actorOf(p), ...meta(c) });
      if (!deleted) throw new AppError('sso_not_configured', 'This team has no single sign-on configured');
      return c.json({ deleted: true as const }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/auth/sso/lookup',
      permission: 'public',
      summary: "Whether an address's domain signs in through single sign-on",
      request: { query: EmailQuery },
      responses: { 200: jsonResponse(z.object({ sso: z.boolean() }).openapi('SsoLookup')) },
    }),
    async (c) => {
      const config = await ssoConfigForEmail(c.get('db'), c.req.valid('query').email);
      return c.json({ sso: !!config }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/auth/sso/start',
      permission: 'public',
      summary: "Begin signing in through the provider of the address's domain (a browser navigation)",
      request: { query: EmailQuery },
      responses: { 302: { description: "To the provider's authorization endpoint; sets the flow cookie" } },
    }),
    async (c) => {
      const { email } = c.req.valid('query');
      const config = await ssoConfigForEmail(c.get('db'), email);
      if (!config) throw new AppError('sso_not_configured', `No team signs in ${email.split('@')[1]} through SSO`);
      const { flow, location } = await startSignIn(c.get('db'), config, c.req.url, email.toLowerCase());
      setCookie(c, SSO_FLOW_COOKIE, flow, { ...flowCookie(c), maxAge: SSO_FLOW_TTL_MS / 1000 });
      return c.redirect(location, 302);
    },
  )
  .openapi(
    apiRoute({
      method: 'get',
      path: '/auth/sso/callback',
      permission: 'public',
      summary: 'Where the provider sends the browser back (register this as the redirect URI)',
      request: { query: CallbackQuery },
      responses: {
        302: {
          description: 'To the studio, signed in; or to its login page with `?sso_error=<reason>` (docs/sso.md)',
        },
      },
    }),
    async (c) => {
      const flow = getCookie(c, SSO_FLOW_COOKIE);
      if (!flow)
        throw new AppError('sso_state_invalid', 'No single sign-on is in progress in this browser; start again');
      deleteCookie(c, SSO_FLOW_COOKIE, flowCookie(c));
      const db = c.get('db');
      const login = new URL('/studio/login', c.req.url);
      try {
        const { config, identity } = await finishSignIn(c.env, db, flow, c.req.valid('query'), c.req.url);
        const user = await accountForSso(db, config, identity, meta(c));
        const session = await createSession(db, user.tenantId, user.id, { method: 'sso' });
        await recordAudit(db, {
          tenantId: user.tenantId,
          actor: { type: 'user', id: user.id, label: user.email },
          action: 'auth.sso.login',
          targetType: 'user',
          targetId: user.id,
          context: { issuer: config.issuer, subject: identity.subject, accountCreated: user.created },
          ...meta(c),
        });
        setSessionCookie(c, session.value);
        return c.redirect(new URL('/studio/', c.req.url).toString(), 302);
      } catch (e) {
        if (!(e instanceof SsoRefusal)) throw e;
        await recordAudit(db, {
          tenantId: e.tenantId,
          actor: { type: 'anonymous', id: null, label: e.email },
          action: 'auth.sso.refused',
          targetType: 'sso',
          targetId: e.tenantId ?? undefined,
          context: { reason: e.reason, detail: e.message },
          ...meta(c),
        });
        login.searchParams.set('sso_error', e.reason);
        return c.redirect(login.toString(), 302);
      }
    },
  );
