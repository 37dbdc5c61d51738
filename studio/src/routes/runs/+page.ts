import { api } from '#lib/api.ts';
import { failLoad, requireMe } from '#lib/session.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ url, parent, fetch }) => {
  await requireMe(parent);
  const filter = { status: url.searchParams.get('status') ?? '', workflow: url.searchParams.get('workflow') ?? '' };
  try {
    const [page, workflows] = await Promise.all([api.listRuns(filter, fetch), api.listWorkflows(fetch)]);
    return { filter, ...page, workflows };
  } catch (err) {
    failLoad(err);
  }
};
