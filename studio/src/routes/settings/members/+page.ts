import { describeError } from '#lib/api.ts';
import { governance } from '#lib/api/governance.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch }) => {
  try {
    return { members: await governance.listMembers(fetch), membersError: null };
  } catch (err) {
    return { members: null, membersError: describeError(err) };
  }
};
