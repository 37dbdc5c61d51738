/** Helpers for page loads: who is signed in, and API failures as SvelteKit's error page shows them. */
import { error, redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import { describeError, ApiError, type Me } from './api';

/** For pages that only make sense signed in: send everyone else to the login page. */
export async function requireMe(parent: () => Promise<{ me: Me | null }>): Promise<Me> {
  const { me } = await parent();
  if (!me) redirect(307, resolve('/login'));
  return me;
}

/** Ends the load with the error page, keeping the API's code and request id. */
export function failLoad(err: unknown): never {
  const status = err instanceof ApiError && err.status >= 400 ? err.status : 503;
  const { message, code, requestId } = describeError(err);
  error(status, { message, code, requestId });
}
