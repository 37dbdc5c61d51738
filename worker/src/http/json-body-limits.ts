/**
 * The nesting limit for /api request bodies (lib/json-limits.ts), checked after the
 * route's access check and before its schema: a body nested deeper than the limit is a
 * 400 naming where it crossed it, and never reaches code that recurses over it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context';
import { depthIssue } from '../lib/json-limits';
import { validationError } from '../errors';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

export const jsonBodyLimits: MiddlewareHandler<AppEnv> = async (c, next) => {
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0].trim();
  if (JSON_MEDIA_TYPE.test(mediaType)) {
    let body: unknown;
    try {
      // Hono caches the parsed body: the route's validator and handler reuse it.
      body = await c.req.json();
    } catch {
      // Malformed JSON: the route's validator answers it with its own 400.
      return next();
    }
    const issue = depthIssue(body);
    if (issue) throw validationError([issue], 'Invalid body');
  }
  return next();
};
