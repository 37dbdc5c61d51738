/** Tests' view into a tenant's run index (worker/src/run-index/): SQL run inside the object. */
import { env, runInDurableObject } from 'cloudflare:test';
import type { RunIndex } from '../../src/run-index/run-index';
import { runIndex } from '../../src/run-index/run-index-stub';

/** The rows of `sql` run in the tenant's run index. */
export const inIndex = <T = Record<string, unknown>>(tenantId: string, sql: string, ...params: (string | number)[]) =>
  runInDurableObject(runIndex(env, tenantId), (_i: RunIndex, state) =>
    state.storage.sql.exec(sql, ...params).toArray(),
  ) as Promise<T[]>;

/** `SELECT count(*) AS n ...` in the tenant's run index. */
export const indexCount = async (tenantId: string, sql: string, ...params: (string | number)[]) =>
  Number((await inIndex<{ n: number }>(tenantId, sql, ...params))[0]?.n ?? -1);
