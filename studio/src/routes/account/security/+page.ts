import { describeError } from '#lib/api.ts';
import { mfa } from '#lib/api/mfa.ts';
import { requireMe } from '#lib/session.ts';
import type { PageLoad } from './$types';

// Every signed-in user's own page (not Admin): a session the team limits to enrolling lands here.
export const load: PageLoad = async ({ fetch, parent }) => {
  await requireMe(parent);
  try {
    return { status: await mfa.status(fetch), statusError: null };
  } catch (err) {
    return { status: null, statusError: describeError(err) };
  }
};
