import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

const connect = (d1: D1Database) => drizzle(d1, { schema });

export type Db = ReturnType<typeof connect>;

/**
 * One drizzle instance per D1 binding for the isolate's life: building one derives the
 * relational config of the whole schema (about half a millisecond of CPU per call in the
 * bench's profile, on every request before this cache). It holds no per-request state.
 */
const instances = new WeakMap<D1Database, Db>();

export function createDb(d1: D1Database): Db {
  // No binding at all (the OpenAPI generator runs the app without one): nothing to cache by.
  if (typeof d1 !== 'object' || d1 === null) return connect(d1);
  let db = instances.get(d1);
  if (!db) {
    db = connect(d1);
    instances.set(d1, db);
  }
  return db;
}
