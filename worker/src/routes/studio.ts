/**
 * The studio's static build is served by Workers Assets straight from studio/dist
 * (files under dist/studio/). What reaches the Worker under /studio is a client-side
 * route, answered with the SPA's fallback page.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../context';

export const studioRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.redirect('/studio/', 302))
  .get('/studio', (c) => c.redirect('/studio/', 301))
  .get('/studio/*', async (c) => {
    const fallback = await c.env.ASSETS.fetch(new URL('/studio/200.html', c.req.url));
    return new Response(fallback.body, {
      status: fallback.ok ? 200 : 404,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
    });
  });
