import { api } from '#lib/api.ts';
import { failLoad, requireMe } from '#lib/session.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, parent, fetch }) => {
  await requireMe(parent);
  try {
    const [workflow, versions] = await Promise.all([
      api.getWorkflow(params.key, fetch),
      api.listVersions(params.key, fetch),
    ]);
    return { workflow, versions };
  } catch (err) {
    failLoad(err);
  }
};
