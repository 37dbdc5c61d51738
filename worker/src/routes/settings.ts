/** The tenant's settings: everyone may read them, owners and admins change them. */
import { z } from '@hono/zod-openapi';
import { hasMfa } from '../auth/mfa/mfa-store';
import { actorOf, type Principal } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { getSettings, MAX_RUN_RETENTION_DAYS, updateSettings } from '../tenants/settings';

const Settings = z
  .object({
    runRetentionDays: z
      .number()
      .nullable()
      .openapi({ description: 'Days finished runs stay in the Explorer; null means the default' }),
    effectiveRunRetentionDays: z.number().openapi({ description: 'The retention that applies' }),
    mfaRequired: z.boolean().openapi({
      description:
        'Every member must use two-factor authentication to sign in with a password (API tokens and SSO sign-ins are not affected)',
    }),
  })
  .openapi('TenantSettings');

const SettingsChange = z
  .strictObject({
    runRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_RUN_RETENTION_DAYS)
      .nullable()
      .optional()
      .openapi({ description: `1 to ${MAX_RUN_RETENTION_DAYS} days, or null for the default` }),
    mfaRequired: z
      .boolean()
      .optional()
      .openapi({ description: 'Owners only; turning it on needs two-factor on your own account first' }),
  })
  .openapi('TenantSettingsChange');

export const settingsRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/settings',
      permission: { role: 'viewer', scope: 'runs:read' },
      summary: "The tenant's settings",
      responses: { 200: jsonResponse(Settings) },
    }),
    async (c) => c.json(await getSettings(c.get('db'), c.get('principal')!.tenantId), 200),
  )
  .openapi(
    apiRoute({
      method: 'patch',
      path: '/settings',
      permission: { role: 'admin' },
      summary: "Change the tenant's settings (audited)",
      request: jsonBody(SettingsChange),
      responses: { 200: jsonResponse(Settings) },
    }),
    async (c) => {
      const p = c.get('principal') as Extract<Principal, { type: 'user' }>;
      const db = c.get('db');
      const settings = await updateSettings(db, p.tenantId, c.req.valid('json'), {
        actor: actorOf(p),
        actorRole: p.role,
        actorHasMfa: p.signInMethod === 'sso' || (await hasMfa(db, p.tenantId, p.userId)),
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json(settings, 200);
    },
  );
