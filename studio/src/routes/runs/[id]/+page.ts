import { api } from '#lib/api.ts';
import { failLoad, requireMe } from '#lib/session.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, parent, fetch }) => {
  await requireMe(parent);
  try {
    return { run: await api.getRun(params.id, fetch) };
  } catch (err) {
    failLoad(err);
  }
};
