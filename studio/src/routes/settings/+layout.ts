import { requireMe } from '#lib/session.ts';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ parent }) => {
  await requireMe(parent);
};
