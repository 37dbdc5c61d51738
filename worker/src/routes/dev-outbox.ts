/**
 * The local outbox (worker/src/mail/outbox.ts), readable only where it exists: in
 * development and tests. Anywhere else the route answers 404 like an unknown path, so a
 * production deployment has no way to read mail content, links included.
 */
import { z } from '@hono/zod-openapi';
import { AppError } from '../errors';
import { isLocalEnvironment } from '../mail/mailer';
import { listOutbox } from '../mail/outbox';
import { apiRoute, createRouter, jsonResponse } from '../http/router';

const OutboxMessage = z
  .object({
    id: z.string(),
    to: z.string(),
    subject: z.string(),
    template: z.string(),
    text: z.string(),
    html: z.string(),
    createdAt: z.number(),
  })
  .openapi('OutboxMessage');

export const devOutboxRoutes = createRouter().openapi(
  apiRoute({
    method: 'get',
    path: '/dev/outbox',
    permission: 'public',
    summary: 'Development and tests only: the mails the Worker would have sent, newest first',
    description:
      'Exists only when ENVIRONMENT is `development` or `test` (`npm run dev`, the test suites); 404 `route_not_found` everywhere else. Holds working links: never expose a development stack.',
    request: {
      query: z.object({
        to: z.string().max(254).optional(),
        limit: z.coerce.number().int().min(1).max(200).optional(),
      }),
    },
    responses: { 200: jsonResponse(z.object({ messages: z.array(OutboxMessage) })) },
  }),
  async (c) => {
    if (!isLocalEnvironment(c.env))
      throw new AppError('route_not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
    const { to, limit } = c.req.valid('query');
    return c.json({ messages: await listOutbox(c.get('db'), to, limit ?? 50) }, 200);
  },
);
