/** Aggregates for the studio's dashboard (worker/src/stats/run-stats.ts). */
import { z } from '@hono/zod-openapi';
import { apiRoute, createRouter, jsonResponse } from '../http/router';
import { overview } from '../stats/run-stats';

const OverviewQuery = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(168)
    .default(24)
    .openapi({ description: 'Window in whole hours, the current one included (1 to 168)' }),
});

const Rate = z
  .number()
  .nullable()
  .openapi({ description: 'Failed share of finished runs, 0..1; null if none finished' });

const Overview = z
  .object({
    since: z.number().openapi({ description: 'Start of the first hour, epoch ms' }),
    until: z.number(),
    totals: z.object({ runs: z.number(), succeeded: z.number(), failed: z.number(), failureRate: Rate }),
    hours: z.array(
      z.object({
        hour: z.number(),
        total: z.number(),
        succeeded: z.number(),
        failed: z.number(),
        failureRate: Rate,
      }),
    ),
    slowestSteps: z.array(
      z.object({
        workflow: z.string(),
        step: z.string(),
        count: z.number(),
        avgMs: z.number(),
        p95Ms: z.number(),
        maxMs: z.number(),
      }),
    ),
    latestFailures: z.array(
      z.object({
        id: z.string(),
        workflow: z.string(),
        version: z.number(),
        error: z.object({ message: z.string().optional(), stepId: z.string().optional() }).nullable(),
        createdAt: z.number(),
        finishedAt: z.number().nullable(),
      }),
    ),
  })
  .openapi('StatsOverview');

export const statsRoutes = createRouter().openapi(
  apiRoute({
    method: 'get',
    path: '/stats/overview',
    permission: { role: 'viewer', scope: 'runs:read' },
    summary: 'Runs per hour, failure rate, slowest steps and latest failures',
    request: { query: OverviewQuery },
    responses: { 200: jsonResponse(Overview) },
  }),
  async (c) => c.json(await overview(c.env, c.get('principal')!.tenantId, c.req.valid('query').hours), 200),
);
