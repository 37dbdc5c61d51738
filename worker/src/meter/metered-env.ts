import type { Env } from '../env';
import { bump, counters } from './counters';
import { meteredD1 } from './metered-d1';

/** Calls on a Durable Object stub: each is one billed request to the object. */
function meteredStub<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      // `then` is probed by `await`; `dup` and disposal are not requests.
      if (typeof prop !== 'string' || typeof value !== 'function' || prop === 'then' || prop === 'dup') return value;
      return (...args: unknown[]) => {
        if (prop === 'fetch') counters.durableObject.fetch++;
        else counters.durableObject.rpc++;
        bump(counters.byMethod, `do.${prop}`);
        return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
      };
    },
  });
}

function meteredNamespace<T extends DurableObjectNamespace>(ns: T): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      if (prop === 'get' || prop === 'getByName') {
        return (...args: unknown[]) => meteredStub(Reflect.apply(value as (...a: unknown[]) => object, target, args));
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

function meteredQueue(queue: Queue): Queue {
  const size = (body: unknown) => JSON.stringify(body ?? null).length;
  return {
    send(body, options) {
      counters.queue.sendCalls++;
      counters.queue.messagesSent++;
      counters.queue.bytesSent += size(body);
      return queue.send(body, options);
    },
    sendBatch(messages, options) {
      const list = [...messages];
      counters.queue.sendCalls++;
      counters.queue.messagesSent += list.length;
      for (const m of list) counters.queue.bytesSent += size(m.body);
      return queue.sendBatch(list, options);
    },
    metrics: () => queue.metrics(),
  } as Queue;
}

const cache = new WeakMap<Env, Env>();

/** The same bindings, each call counted; behaviour unchanged. One wrapped env per runtime env object. */
export function meterEnv(env: Env): Env {
  let wrapped = cache.get(env);
  if (!wrapped) {
    wrapped = {
      ...env,
      DB: meteredD1(env.DB),
      RUN_COORDINATOR: meteredNamespace(env.RUN_COORDINATOR),
      RUN_INDEX: meteredNamespace(env.RUN_INDEX),
      STEP_QUEUE: meteredQueue(env.STEP_QUEUE),
    };
    cache.set(env, wrapped);
  }
  return wrapped;
}
