/**
 * Route definitions: each route's zod schemas validate the request, type the handler
 * and generate /api/openapi.json. `permission` is mandatory on every /api route but the
 * public auth ones, so no route can forget its access check.
 */
import { createRoute, OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import type { AppEnv } from '../context';
import type { Permission } from '../auth/principal';
import { requirePermission, type RouteAccess } from '../auth/middleware';
import { ERROR_CODES } from '../error-codes';
import { validationError, zodIssues } from '../errors';
import { jsonBodyLimits } from './json-body-limits';

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const prefix = result.target === 'json' ? [] : [result.target];
        throw validationError(
          zodIssues(result.error, prefix),
          result.target === 'json' ? 'Invalid body' : `Invalid ${result.target}`,
        );
      }
    },
  });
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).openapi({ description: 'What went wrong; each code is explained in docs/errors.md' }),
      message: z.string(),
      requestId: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

const errorResponses = {
  400: {
    description: 'Invalid input; `details` names each bad field',
    content: { 'application/json': { schema: ErrorBody } },
  },
  401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBody } } },
  403: { description: 'Role or token scope insufficient', content: { 'application/json': { schema: ErrorBody } } },
  404: { description: "Not found (or another tenant's)", content: { 'application/json': { schema: ErrorBody } } },
} as const;

type ApiRouteConfig = RouteConfig & { permission: Permission | 'public'; access?: RouteAccess };

export function apiRoute<R extends ApiRouteConfig>(config: R) {
  const { permission, access, ...rest } = config;
  const guarded = permission !== 'public';
  return createRoute({
    ...rest,
    // Access first (401/403), then the body's nesting limit, then the route's schema.
    middleware: guarded ? [requirePermission(permission, access), jsonBodyLimits] : [jsonBodyLimits],
    security: guarded ? [{ session: [] }, { token: [] }] : [],
    description: [
      rest.description,
      guarded
        ? `Requires role \`${permission.role}\`${permission.scope ? ` or a token with \`${permission.scope}\`` : ' (users only)'}.`
        : 'Public.',
    ]
      .filter(Boolean)
      .join('\n\n'),
    responses: { ...errorResponses, ...rest.responses },
  } as unknown as R) as R;
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { required: true, content: { 'application/json': { schema } } } } as const;
}

export function jsonResponse<T extends z.ZodType>(schema: T, description = 'OK') {
  return { description, content: { 'application/json': { schema } } } as const;
}
