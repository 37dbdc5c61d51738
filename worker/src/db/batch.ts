/**
 * D1 batches run as one transaction. drizzle's own batch() cannot mix in raw SQL
 * (needed for INSERT ... SELECT MAX()+1), so this turns query builders and raw
 * statements alike into D1 prepared statements.
 */
import type { Db } from './client';

type Buildable = { toSQL(): { sql: string; params: unknown[] } };
export type BatchItem = Buildable | { sql: string; params: unknown[] };

export function atomically(db: Db, items: BatchItem[]) {
  const d1 = db.$client;
  return d1.batch(
    items.map((item) => {
      const { sql, params } = 'toSQL' in item ? item.toSQL() : item;
      return d1.prepare(sql).bind(...params);
    }),
  );
}
