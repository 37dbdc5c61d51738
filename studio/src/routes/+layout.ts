import { error } from '@sveltejs/kit';
import { api, ApiError } from '#lib/api.ts';
import type { LayoutLoad } from './$types';

// A static SPA: no server rendering, nothing prerendered; every page is served by 200.html.
export const ssr = false;
export const prerender = false;

export const load: LayoutLoad = async ({ fetch, depends }) => {
  depends('app:session');
  try {
    return { me: await api.me(fetch) };
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err));
    error(e.status >= 400 ? e.status : 503, { message: e.message, code: e.code, requestId: e.requestId });
  }
};
