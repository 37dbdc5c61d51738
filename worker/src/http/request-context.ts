import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context';
import { createDb } from '../db/client';
import { newId } from '../lib/crypto';

/** Gives each request an id (echoed as `X-Request-Id` and in errors) and a db handle. */
export const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const requestId = newId('req', 9);
  c.set('requestId', requestId);
  c.set('db', createDb(c.env.DB));
  await next();
  c.header('X-Request-Id', requestId);
};

export function clientIp(c: { req: { header(name: string): string | undefined } }): string | null {
  return c.req.header('cf-connecting-ip') ?? null;
}
