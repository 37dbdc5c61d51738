import { describeError } from '#lib/api.ts';
import { governance } from '#lib/api/governance.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, parent }) => {
  // After the settings layout's role check, so a refused role makes no call the API would refuse.
  await parent();
  try {
    return { members: await governance.listMembers(fetch), membersError: null };
  } catch (err) {
    return { members: null, membersError: describeError(err) };
  }
};
