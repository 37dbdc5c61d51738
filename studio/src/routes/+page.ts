import { api, describeError } from '#lib/api.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ parent, fetch }) => {
  const { me } = await parent();
  if (!me) return { workflows: null, workflowsError: null };
  try {
    return { workflows: await api.listWorkflows(fetch), workflowsError: null };
  } catch (err) {
    return { workflows: null, workflowsError: describeError(err) };
  }
};
