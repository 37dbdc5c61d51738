/** The tenant's settings: everyone may read them, owners and admins change them. */
import { z } from '@hono/zod-openapi';
import { actorOf } from '../auth/principal';
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
      const p = c.get('principal')!;
      const settings = await updateSettings(c.get('db'), p.tenantId, c.req.valid('json'), {
        actor: actorOf(p),
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json(settings, 200);
    },
  );
