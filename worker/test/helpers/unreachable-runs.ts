/** The platform failing to reach run objects, for the 503 paths. */
import { env } from 'cloudflare:test';
import type { Env } from '../../src/env';

/**
 * The real namespace (run ids made as in production), whose stubs fail every call the way
 * an unreachable object's do. Fault injection for the one case no real local object
 * produces on demand; everything else in these tests is real.
 */
export const UNREACHABLE_RUNS = {
  RUN_COORDINATOR: new Proxy(env.RUN_COORDINATOR, {
    get(target, prop) {
      if (prop === 'get')
        return () =>
          new Proxy(
            {},
            {
              get: () => async () => {
                throw new Error('Network connection lost.');
              },
            },
          );
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }),
} as Partial<Env>;
