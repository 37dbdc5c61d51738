/** The audit log, newest first, filtered and paged with an opaque cursor. */
import { z } from '@hono/zod-openapi';
import { type AuditCursor, listAudit } from '../audit/audit-log';
import { apiRoute, createRouter, jsonResponse } from '../http/router';

/** `<at>.<id>` of the last entry of a page, base64url-encoded so clients treat it as opaque. */
export function encodeAuditCursor(c: AuditCursor): string {
  return btoa(`${c.at}.${c.id}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeAuditCursor(value: string): AuditCursor | null {
  try {
    const text = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
    const m = /^(\d{1,16})\.([\w-]{1,100})$/.exec(text);
    return m ? { at: Number(m[1]), id: m[2] } : null;
  } catch {
    return null;
  }
}

const EpochMs = z.coerce.number().int().min(0);

const AuditQuery = z
  .object({
    run: z.string().min(1).max(100).optional().openapi({ description: 'Only entries of this run' }),
    action: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\w.]+\*?$/, 'an action such as secret.rotate, or a prefix ending in * (secret.*)')
      .optional()
      .openapi({ description: 'Exact action, or a prefix ending in `*`' }),
    actor: z.string().min(1).max(254).optional().openapi({ description: "Actor id, a user's email or a token's name" }),
    since: EpochMs.optional().openapi({ description: 'epoch ms, inclusive' }),
    before: EpochMs.optional().openapi({ description: 'epoch ms, exclusive' }),
    cursor: z
      .string()
      .max(200)
      .transform((value, ctx) => {
        const cursor = decodeAuditCursor(value);
        if (!cursor) {
          ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned (use nextCursor as is)' });
          return z.NEVER;
        }
        return cursor;
      })
      .optional()
      .openapi({ type: 'string', description: "The previous page's `nextCursor`" }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .refine((q) => q.since === undefined || q.before === undefined || q.since < q.before, {
    path: ['before'],
    message: 'must be later than since',
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
    description: 'Secrets in `context` were replaced by `********` when the entry was written.',
    request: { query: AuditQuery },
    responses: {
      200: jsonResponse(
        z.object({
          entries: z.array(AuditEntry),
          nextCursor: z.string().nullable().openapi({ description: 'Null on the last page' }),
        }),
      ),
    },
  }),
  async (c) => {
    const q = c.req.valid('query');
    // One more than asked tells whether another page exists without a count query.
    const rows = await listAudit(c.env, c.get('db'), c.get('principal')!.tenantId, { ...q, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > q.limit && last ? encodeAuditCursor(last) : null;
    return c.json({ entries: page.map(({ tenantId: _t, ...r }) => r), nextCursor }, 200);
  },
);
