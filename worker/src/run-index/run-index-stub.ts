/** The stub of a tenant's run index (run-index.ts): one object per tenant, named by its id. */
import type { Env } from '../env';

export function runIndex(env: Env, tenantId: string) {
  return env.RUN_INDEX.get(env.RUN_INDEX.idFromName(tenantId));
}
