import { api } from '#lib/api.ts';
import { failLoad, requireMe } from '#lib/session.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, parent, fetch }) => {
  await requireMe(parent);
  try {
    const run = await api.getRun(params.id, fetch);
    // The version the run used, to draw it on the canvas; the page still works without it.
    const file = await api.exportVersion(run.workflow, run.version, fetch).catch(() => null);
    return { run, file };
  } catch (err) {
    failLoad(err);
  }
};
