import { error } from '@sveltejs/kit';
import { can } from '#lib/permissions.ts';
import { requireMe } from '#lib/session.ts';
import type { LayoutLoad } from './$types';

// Admin › Governance is for owners and admins: anyone else gets the reason, and no page
// below asks the API for what it would refuse them.
export const load: LayoutLoad = async ({ parent }) => {
  const me = await requireMe(parent);
  if (!can(me, 'governance'))
    error(403, {
      message: `Admin pages (API tokens, stored secrets, members, audit log) are for owners and admins; you are ${me.user?.role ?? 'signed in with a token'}.`,
      code: 'forbidden',
    });
};
