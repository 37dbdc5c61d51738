import { api, describeError } from '#lib/api.ts';
import { governance } from '#lib/api/governance.ts';
import type { PageLoad } from './$types';

/** A failed half of the page shows its own error; the other half still shows. */
async function settle<T>(p: Promise<T>) {
  try {
    return { value: await p, error: null };
  } catch (err) {
    return { value: null, error: describeError(err) };
  }
}

export const load: PageLoad = async ({ parent, fetch }) => {
  const { me } = await parent();
  if (!me) return { workflows: null, workflowsError: null, stats: null, statsError: null };
  const [workflows, stats] = await Promise.all([
    settle(api.listWorkflows(fetch)),
    settle(governance.statsOverview(24, fetch)),
  ]);
  return { workflows: workflows.value, workflowsError: workflows.error, stats: stats.value, statsError: stats.error };
};
