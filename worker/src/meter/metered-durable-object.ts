import type { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { counters } from './counters';
import { meterEnv } from './metered-env';

type Fn = (...args: unknown[]) => unknown;

/**
 * The object's key-value storage, with rows counted the way SQLite-backed objects are
 * billed: each key put or deleted is a row written, each key got or listed a row read.
 * Alarms are counted apart (setting one is a storage write in the runtime, whether it is
 * billed as a row is noted in bench/README.md).
 */
function meteredStorage(storage: DurableObjectStorage): DurableObjectStorage {
  const keys = (arg: unknown) =>
    typeof arg === 'string' ? 1 : Array.isArray(arg) ? arg.length : Object.keys(arg as object).length;
  return new Proxy(storage, {
    get(target, prop) {
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

function meteredState(ctx: DurableObjectState): DurableObjectState {
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
