import type { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { counters } from './counters';
import { verbOf } from './metered-d1';
import { meterEnv } from './metered-env';

type Fn = (...args: unknown[]) => unknown;

type Cursor = SqlStorageCursor<Record<string, SqlStorageValue>>;

/** Cursors whose rows are added up once the code that made them has moved on. */
let pending: { cursor: Cursor; verb: string }[] = [];

function settleSql() {
  const done = pending;
  pending = [];
  for (const { cursor, verb } of done) {
    const written = cursor.rowsWritten;
    const read = cursor.rowsRead;
    counters.doSql.rowsWritten += written;
    counters.doSql.rowsRead += read;
    counters.doSqlByVerb[verb] ??= { statements: 0, rowsRead: 0, rowsWritten: 0 };
    counters.doSqlByVerb[verb].statements++;
    counters.doSqlByVerb[verb].rowsRead += read;
    counters.doSqlByVerb[verb].rowsWritten += written;
  }
}

/**
 * The object's SQL storage, each statement's rows counted from its cursor's own
 * `rowsWritten` / `rowsRead` (every table row and index entry written, which is what
 * SQLite-backed storage bills). A cursor's counts grow as it is read, so they are taken in
 * a microtask after the statement: by then the synchronous code (a transactionSync, a
 * toArray) has run it to the end. A cursor read lazily across an await would be counted
 * short; the run index reads none that way.
 */
function meteredSql(sql: SqlStorage): SqlStorage {
  return new Proxy(sql, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop !== 'exec') return value.bind(target);
      return (query: string, ...bindings: unknown[]) => {
        const cursor = Reflect.apply(value as Fn, target, [query, ...bindings]) as Cursor;
        counters.doSql.statements++;
        if (!pending.length) queueMicrotask(settleSql);
        pending.push({ cursor, verb: verbOf(query) });
        return cursor;
      };
    },
  });
}

/**
 * The object's key-value storage, with rows counted the way SQLite-backed objects are
 * billed: each key put or deleted is a row written, each key got or listed a row read.
 * Alarms are counted apart (setting one is a storage write in the runtime, whether it is
 * billed as a row is noted in bench/README.md).
 */
function meteredStorage(storage: DurableObjectStorage): DurableObjectStorage {
  const keys = (arg: unknown) =>
    typeof arg === 'string' ? 1 : Array.isArray(arg) ? arg.length : Object.keys(arg as object).length;
  const sql = 'sql' in storage ? meteredSql(storage.sql) : undefined;
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'sql' && sql) return sql;
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      const call = (...args: unknown[]) => Reflect.apply(value as Fn, target, args);
      switch (prop) {
        case 'put':
          return (...args: unknown[]) => {
            counters.doStorage.puts++;
            counters.doStorage.rowsWritten += keys(args[0]);
            return call(...args);
          };
        case 'delete':
          return (...args: unknown[]) => {
            counters.doStorage.deletes++;
            counters.doStorage.rowsWritten += keys(args[0]);
            return call(...args);
          };
        case 'get':
          return (...args: unknown[]) => {
            counters.doStorage.gets++;
            counters.doStorage.rowsRead += keys(args[0]);
            return call(...args);
          };
        case 'list':
          return async (...args: unknown[]) => {
            counters.doStorage.lists++;
            const found = (await call(...args)) as Map<string, unknown>;
            counters.doStorage.rowsRead += found.size;
            return found;
          };
        case 'setAlarm':
          return (...args: unknown[]) => {
            counters.doStorage.alarmSets++;
            return call(...args);
          };
        case 'deleteAlarm':
          return (...args: unknown[]) => {
            counters.doStorage.alarmDeletes++;
            return call(...args);
          };
        default:
          return value.bind(target);
      }
    },
  });
}

export function meteredState(ctx: DurableObjectState): DurableObjectState {
  const storage = meteredStorage(ctx.storage);
  return new Proxy(ctx, {
    get(target, prop) {
      if (prop === 'storage') return storage;
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

type CoordinatorClass<T extends DurableObject<Env>> = new (ctx: DurableObjectState, env: Env) => T;

/**
 * The same Durable Object class, constructed with counting storage and bindings, and
 * its alarms counted (calls from stubs are counted by the caller's metered namespace).
 */
export function meteredDurableObject<T extends DurableObject<Env>>(Base: CoordinatorClass<T>): CoordinatorClass<T> {
  return class Metered extends (Base as CoordinatorClass<DurableObject<Env>>) {
    constructor(ctx: DurableObjectState, env: Env) {
      // The runtime's base class accepts only the real state object, so the counting one
      // replaces `this.ctx` after construction: the constructor's own reads (loading a
      // stored run after an eviction) are not counted, everything after it is.
      super(ctx, meterEnv(env));
      Object.defineProperty(this, 'ctx', { value: meteredState(ctx), enumerable: true });
      counters.durableObject.instances++;
    }

    async alarm(info?: AlarmInvocationInfo): Promise<void> {
      counters.durableObject.alarm++;
      await (Base.prototype as { alarm?: (i?: AlarmInvocationInfo) => Promise<void> }).alarm?.call(this, info);
    }
  } as unknown as CoordinatorClass<T>;
}
