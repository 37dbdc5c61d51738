/** The audit log, newest first. */
import { z } from '@hono/zod-openapi';
import { listAudit } from '../audit/audit-log';
import { apiRoute, createRouter, jsonResponse } from '../http/router';

const AuditQuery = z.object({
  run: z.string().max(100).optional(),
  action: z.string().max(100).optional(),
  since: z.coerce.number().int().min(0).optional().openapi({ description: 'epoch ms' }),
  before: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ description: "epoch ms; page with the last entry's `at`" }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const AuditEntry = z.object({
  id: z.string(),
  at: z.number(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  actorLabel: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  runId: z.string().nullable(),
  context: z.record(z.string(), z.unknown()).nullable(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
});

export const auditRoutes = createRouter().openapi(
  apiRoute({
    method: 'get',
    path: '/audit',
    permission: { role: 'admin', scope: 'audit:read' },
    summary: 'Audit log, newest first',
    request: { query: AuditQuery },
    responses: { 200: jsonResponse(z.object({ entries: z.array(AuditEntry) })) },
  }),
  async (c) => {
    const rows = await listAudit(c.get('db'), c.get('principal')!.tenantId, c.req.valid('query'));
    return c.json({ entries: rows.map(({ tenantId: _t, ...r }) => r) }, 200);
  },
);
