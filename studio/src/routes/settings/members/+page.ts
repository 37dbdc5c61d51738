import { describeError } from '#lib/api.ts';
import { accounts } from '#lib/api/accounts.ts';
import { governance } from '#lib/api/governance.ts';
import { mfa } from '#lib/api/mfa.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ fetch, parent }) => {
  // After the settings layout's role check, so a refused role makes no call the API would refuse.
  await parent();
  try {
    const [members, invitations, settings] = await Promise.all([
      governance.listMembers(fetch),
      accounts.listInvitations(fetch),
      mfa.settings(fetch),
    ]);
    return { members, invitations, mfaRequired: settings.mfaRequired, membersError: null };
  } catch (err) {
    return { members: null, invitations: null, mfaRequired: false, membersError: describeError(err) };
  }
};
