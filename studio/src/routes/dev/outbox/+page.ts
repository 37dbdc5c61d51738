import { ApiError, describeError } from '#lib/api.ts';
import { accounts } from '#lib/api/accounts.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch }) => {
  try {
    return { messages: await accounts.outbox(fetch), unavailable: false, error: null };
  } catch (err) {
    // A production deployment has no outbox: the route does not exist there.
    if (err instanceof ApiError && err.code === 'route_not_found')
      return { messages: [], unavailable: true, error: null };
    return { messages: [], unavailable: false, error: describeError(err) };
  }
};
