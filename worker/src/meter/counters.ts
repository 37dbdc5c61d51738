/**
 * Operation counters of one isolate, for the bench's cost accounting (bench/README.md,
 * "Cost per run"). Only the metered wrappers in this folder write them, and they exist
 * only when `AUTOMATE_METER=1`. Under `wrangler dev` the Worker and every RunCoordinator
 * share one isolate, so one set of counters sees the whole stack.
 */
export const counters = {
  worker: { fetch: 0, queue: 0, scheduled: 0 },
  durableObject: { rpc: 0, fetch: 0, alarm: 0, instances: 0 },
  doStorage: { rowsWritten: 0, rowsRead: 0, puts: 0, deletes: 0, gets: 0, lists: 0, alarmSets: 0, alarmDeletes: 0 },
  /**
   * SQL statements of SQLite-backed objects (the run index), with the cursors' own
   * `rowsWritten` / `rowsRead`: table rows and index entries, as billed.
   */
  doSql: { statements: 0, rowsWritten: 0, rowsRead: 0 },
  /** readsWithoutMeta: raw()/first()/exec() calls, whose rows read are counted as rows returned (a lower bound). */
  d1: { requests: 0, statements: 0, rowsRead: 0, rowsWritten: 0, readsWithoutMeta: 0 },
  /** The database's size in bytes after the latest statement that reported it (D1's meta.size_after). */
  d1Size: { bytes: 0 },
  queue: { sendCalls: 0, messagesSent: 0, bytesSent: 0, batches: 0, messagesDelivered: 0, acks: 0, retries: 0 },
  /** Per RPC method name, per D1 statement verb: where the requests and rows come from. */
  byMethod: {} as Record<string, number>,
  d1ByVerb: {} as Record<string, { statements: number; rowsRead: number; rowsWritten: number }>,
  doSqlByVerb: {} as Record<string, { statements: number; rowsRead: number; rowsWritten: number }>,
};

export function bump(map: Record<string, number>, key: string, by = 1) {
  map[key] = (map[key] ?? 0) + by;
}
