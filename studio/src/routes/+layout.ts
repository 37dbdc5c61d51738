import { error, redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import { api, ApiError } from '#lib/api.ts';
import type { LayoutLoad } from './$types';

// A static SPA: no server rendering, nothing prerendered; every page is served by 200.html.
export const ssr = false;
export const prerender = false;

/** Where a session the team limits to enrolling two-factor authentication is sent. */
const ENROL_PAGE = '/account/security';

export const load: LayoutLoad = async ({ fetch, depends, untrack, url }) => {
  depends('app:session');
  let me: Awaited<ReturnType<typeof api.me>>;
  try {
    me = await api.me(fetch);
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError(0, 'client_error', String(err));
    error(e.status >= 400 ? e.status : 503, { message: e.message, code: e.code, requestId: e.requestId });
  }
  // Untracked: checking the path must not re-ask the API who we are on every navigation
  // (+layout.svelte keeps later navigations on the page).
  if (me?.user?.mfaEnrollmentRequired && untrack(() => url.pathname) !== resolve(ENROL_PAGE))
    redirect(307, resolve(ENROL_PAGE));
  return { me };
};
