import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { testContext } from '../testing/context';
import { stubUrl, uniquePath, requests } from '../testing/stub-client';
import {
  ActionSpec,
  ConnectorAdapter,
  ConnectorError,
  ConnectorRegistry,
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  getConnector,
  MAX_ATTEMPT_TIMEOUT_MS,
  registerConnector,
  runAction,
  type ExecutionContext,
} from '.';

const Echo = ActionSpec({
  description: 'Echo the params',
  inputs: z.object({
    url: z.url(),
    count: z.int().min(1).default(3),
    items: z.array(z.object({ sku: z.string() })).optional(),
  }),
  outputs: z.object({ params: z.unknown() }),
});

class EchoConnector extends ConnectorAdapter {
  readonly code: string = 'echo';
  readonly name = 'Echo';
  readonly description = 'Test connector';
  readonly secrets = ['TOKEN'];
  readonly settings = ['BASE_URL'];
  readonly actions = { echo: Echo };
  calls: { params: unknown; ctx: ExecutionContext }[] = [];
  behaviour: (params: any, ctx: ExecutionContext) => Promise<unknown> = async (params) => ({ params });

  async execute(_action: string, params: unknown, ctx: ExecutionContext) {
    this.calls.push({ params, ctx });
    return this.behaviour(params, ctx);
  }
}

async function rejection(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('register', () => {
  it('accepts a class or an instance and finds it by code', () => {
    const registry = new ConnectorRegistry();
    const fromClass = registry.register(EchoConnector);
    expect(fromClass).toBeInstanceOf(EchoConnector);
    expect(registry.get('echo')).toBe(fromClass);
    const other = Object.assign(new EchoConnector(), { code: 'echo_two' });
    expect(registry.register(other)).toBe(other);
    expect(registry.get('echo_two')).toBe(other);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('refuses a second connector with the same code', () => {
    const registry = new ConnectorRegistry();
    registry.register(EchoConnector);
    expect(() => registry.register(new EchoConnector())).toThrow(/"echo" is already registered/);
  });

  it('refuses malformed adapters when they are registered, not when they run', () => {
    const registry = new ConnectorRegistry();
    expect(() => registry.register(Object.assign(new EchoConnector(), { code: 'Bad-Code' }))).toThrow(/snake_case/);
    expect(() => registry.register(Object.assign(new EchoConnector(), { code: 'no_actions', actions: {} }))).toThrow(
      /at least one action/,
    );
    expect(() =>
      registry.register(
        Object.assign(new EchoConnector(), {
          code: 'raw_action',
          actions: { go: { description: 'x', inputs: {}, outputs: {} } },
        }) as any,
      ),
    ).toThrow(/"go" is not an ActionSpec/);
    expect(() =>
      registry.register(Object.assign(new EchoConnector(), { code: 'bad_secret', secrets: ['token'] })),
    ).toThrow(/UPPER_SNAKE_CASE/);
  });

  it('ActionSpec insists on zod object schemas', () => {
    expect(() => ActionSpec({ description: 'x', inputs: z.string() as any, outputs: z.object({}) })).toThrow(
      /inputs must be a zod object/,
    );
    expect(() => ActionSpec({ description: '', inputs: z.object({}), outputs: z.object({}) })).toThrow(/description/);
  });
});

describe('runAction', () => {
  const setup = () => {
    const registry = new ConnectorRegistry();
    const adapter = registry.register(EchoConnector);
    return { registry, adapter };
  };

  it('rejects an unknown connector, non-retryable, naming it', async () => {
    const { registry } = setup();
    const err = await rejection(registry.runAction('nope', 'echo', {}, testContext()));
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('UNKNOWN_CONNECTOR');
    expect(err.message).toContain('"nope"');
    expect(err.message).toContain('echo');
  });

  it('rejects an unknown action, non-retryable, including inherited names', async () => {
    const { registry, adapter } = setup();
    for (const action of ['send', 'toString', 'constructor']) {
      const err = await rejection(registry.runAction('echo', action, {}, testContext()));
      expect(err.retryable).toBe(false);
      expect(err.code).toBe('UNKNOWN_ACTION');
      expect(err.message).toContain(`"${action}"`);
    }
    expect(adapter.calls).toHaveLength(0);
  });

  it('validates params before execute and names the bad param', async () => {
    const { registry, adapter } = setup();
    const err = await rejection(registry.runAction('echo', 'echo', { url: 'not a url' }, testContext()));
    expect(err.message).toBe('params.url: Invalid URL');
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('INVALID_PARAMS');

    const nested = await rejection(
      registry.runAction('echo', 'echo', { url: 'https://x.test', items: [{ sku: 1 }] }, testContext()),
    );
    expect(nested.message).toMatch(/^params\.items\[0\]\.sku: /);
    const missing = await rejection(registry.runAction('echo', 'echo', undefined, testContext()));
    expect(missing.message).toMatch(/^params\.url: /);
    expect(adapter.calls).toHaveLength(0);
  });

  it('passes the parsed params (defaults applied) and a complete context', async () => {
    const { registry, adapter } = setup();
    const output = await registry.runAction(
      'echo',
      'echo',
      { url: 'https://x.test/a', extra: 'dropped' },
      testContext({ secrets: { TOKEN: 's3cr3t' } }),
    );
    expect(output).toEqual({ params: { url: 'https://x.test/a', count: 3 } });
    const { ctx } = adapter.calls[0];
    expect(ctx.secrets).toEqual({ TOKEN: 's3cr3t' });
    expect(Object.isFrozen(ctx.secrets)).toBe(true);
    expect(ctx.settings).toEqual({});
    expect(ctx.allowPrivateNetwork).toBe(false);
    expect(typeof ctx.fetch).toBe('function');
  });

  it('defaults allowPrivateNetwork to false even when the engine omits it', async () => {
    const { registry, adapter } = setup();
    const { allowPrivateNetwork: _omit, ...ctx } = testContext();
    await registry.runAction('echo', 'echo', { url: 'https://x.test' }, ctx);
    expect(adapter.calls[0].ctx.allowPrivateNetwork).toBe(false);
  });

  it('gives connectors a context.fetch that can be called as a method inside workerd', async () => {
    const { registry, adapter } = setup();
    const path = uniquePath();
    adapter.behaviour = async (_p, ctx) => (await ctx.fetch(`${stubUrl()}${path}`)).status;
    expect(await registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext())).toBe(200);
    expect(await requests(path)).toHaveLength(1);

    const injected = vi.fn(async () => new Response('injected'));
    adapter.behaviour = async (_p, ctx) => (await ctx.fetch('https://x.test/')).text();
    expect(
      await registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext({ fetch: injected as any })),
    ).toBe('injected');
    expect(injected).toHaveBeenCalledOnce();
  });

  it('passes ConnectorErrors through unchanged', async () => {
    const { registry, adapter } = setup();
    const thrown = new ConnectorError('slow down', {
      retryable: true,
      retryAfterMs: 1500,
      status: 429,
      code: 'HTTP_429',
    });
    adapter.behaviour = async () => {
      throw thrown;
    };
    const err = await rejection(registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext()));
    expect(err).toBe(thrown);
    expect([err.retryable, err.retryAfterMs, err.status]).toEqual([true, 1500, 429]);
  });

  it('wraps any other error as non-retryable, keeping its message and stack', async () => {
    const { registry, adapter } = setup();
    adapter.behaviour = async function brokenConnectorCode(params) {
      return (params as any).missing.field;
    };
    const err = await rejection(registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext()));
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('UNEXPECTED');
    expect(err.message).toMatch(/^TypeError: .*field/);
    expect(err.stack).toContain('brokenConnectorCode');
    expect(err.cause).toBeInstanceOf(TypeError);

    adapter.behaviour = async () => {
      throw 'just a string';
    };
    const fromString = await rejection(registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext()));
    expect([fromString.message, fromString.retryable]).toEqual(['just a string', false]);
  });

  it('wraps a synchronous throw from execute too', async () => {
    const registry = new ConnectorRegistry();
    const adapter = registry.register(EchoConnector);
    adapter.execute = (() => {
      throw new RangeError('sync boom');
    }) as any;
    const err = await rejection(registry.runAction('echo', 'echo', { url: 'https://x.test' }, testContext()));
    expect(err.message).toBe('RangeError: sync boom');
  });
});

describe('catalog and settings', () => {
  it('describes each connector with JSON Schemas of its inputs and outputs', () => {
    const registry = new ConnectorRegistry();
    registry.register(Object.assign(new EchoConnector(), { code: 'zeta' }));
    registry.register(EchoConnector);
    const entries = registry.catalog();
    expect(entries.map((e) => e.code)).toEqual(['echo', 'zeta']);
    const [echo] = entries;
    expect(echo).toMatchObject({
      name: 'Echo',
      description: 'Test connector',
      secrets: ['TOKEN'],
      settings: ['BASE_URL'],
    });
    const [action] = echo.actions;
    expect(action.name).toBe('echo');
    expect(action.description).toBe('Echo the params');
    expect(action.inputs).toMatchObject({
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, count: { type: 'integer', default: 3 } },
      required: ['url'],
    });
    expect(action.outputs).toMatchObject({ type: 'object', properties: { params: {} } });
    // Callers get copies: editing one does not change the next answer.
    (action.inputs as any).properties = {};
    expect(registry.catalog()[0].actions[0].inputs).toHaveProperty('properties.url');
  });

  it('reads declared settings from CONNECTOR_<CODE>_<NAME> variables only', () => {
    const registry = new ConnectorRegistry();
    registry.register(EchoConnector);
    const env = { CONNECTOR_ECHO_BASE_URL: 'https://erp.internal', CONNECTOR_ECHO_OTHER: 'x', DB: {} };
    expect(registry.settingsFor('echo', env)).toEqual({ BASE_URL: 'https://erp.internal' });
    expect(registry.settingsFor('echo', {})).toEqual({ BASE_URL: undefined });
    expect(registry.settingsFor('unknown', env)).toEqual({});
  });
});

describe('time limit per attempt', () => {
  const spec = (timeoutMs: unknown) =>
    ActionSpec({ description: 'x', inputs: z.object({}), outputs: z.object({}), timeoutMs: timeoutMs as never });
  const registryWith = (timeoutMs: unknown) => {
    const registry = new ConnectorRegistry();
    registry.register(Object.assign(new EchoConnector(), { actions: { echo: spec(timeoutMs) } }));
    return registry;
  };

  it('is 30 s unless the action declares one, also for unknown connectors and actions', () => {
    expect(DEFAULT_ATTEMPT_TIMEOUT_MS).toBe(30_000);
    const registry = new ConnectorRegistry();
    registry.register(EchoConnector);
    expect(registry.attemptTimeoutMs('echo', 'echo', {})).toBe(30_000);
    expect(registry.attemptTimeoutMs('echo', 'nope', {})).toBe(30_000);
    expect(registry.attemptTimeoutMs('nope', 'echo', {})).toBe(30_000);
  });

  it('takes a fixed limit or one read from the rendered params, clamped to 10 minutes', () => {
    expect(registryWith(5000).attemptTimeoutMs('echo', 'echo', {})).toBe(5000);
    const fromParams = registryWith((p: Record<string, unknown>) => (typeof p.wait === 'number' ? p.wait : undefined));
    expect(fromParams.attemptTimeoutMs('echo', 'echo', { wait: 1234 })).toBe(1234);
    expect(fromParams.attemptTimeoutMs('echo', 'echo', { wait: 'soon' })).toBe(30_000);
    expect(fromParams.attemptTimeoutMs('echo', 'echo', { wait: 3_600_000 })).toBe(MAX_ATTEMPT_TIMEOUT_MS);
    const throws = registryWith(() => {
      throw new Error('bad');
    });
    expect(throws.attemptTimeoutMs('echo', 'echo', {})).toBe(30_000);
  });

  it('http.request uses its own timeoutMs param', async () => {
    const { attemptTimeoutMs } = await import('..');
    expect(attemptTimeoutMs('http', 'request', { url: 'https://x.test', timeoutMs: 4000 })).toBe(4000);
    expect(attemptTimeoutMs('http', 'request', { url: 'https://x.test' })).toBe(30_000);
  });

  it('refuses a limit that is not whole milliseconds from 1 to 10 minutes', () => {
    for (const bad of [0, -1, 1.5, MAX_ATTEMPT_TIMEOUT_MS + 1, '5000'])
      expect(() => spec(bad), String(bad)).toThrow(/timeoutMs must be whole milliseconds/);
  });
});

// Needs standardDecorators() in vitest.config.ts: Vite 8 (Oxc) leaves TC39 decorators as written.
const decorated = await import('./fixtures/decorated-connector');
describe('@registerConnector', () => {
  it('registers the class in the default registry once it is fully defined (decorator protocol)', async () => {
    class ProtocolConnector extends EchoConnector {
      static marker = 'static fields are set before registration';
      readonly code = 'test_decorator_protocol';
      constructor() {
        super();
        expect(ProtocolConnector.marker).toBeDefined();
      }
    }
    // What the TC39 decorator semantics (as esbuild lowers them) do for `@registerConnector class ...`.
    const initializers: ((this: any) => void)[] = [];
    registerConnector(ProtocolConnector, {
      kind: 'class',
      name: 'ProtocolConnector',
      metadata: {},
      addInitializer: (fn) => void initializers.push(fn),
    } as ClassDecoratorContext<typeof ProtocolConnector>);
    expect(getConnector('test_decorator_protocol')).toBeUndefined();
    for (const fn of initializers) fn.call(ProtocolConnector);
    expect(getConnector('test_decorator_protocol')).toBeInstanceOf(ProtocolConnector);
    const out = await runAction('test_decorator_protocol', 'echo', { url: 'https://x.test' }, testContext());
    expect(out).toEqual({ params: { url: 'https://x.test', count: 3 } });
  });

  it('refuses to decorate anything but a class', () => {
    expect(() => registerConnector(EchoConnector, { kind: 'method' } as any)).toThrow(/decorates classes/);
  });

  it('registers a class written with @registerConnector syntax', async () => {
    expect(getConnector('test_decorated_syntax')).toBeInstanceOf(decorated.DecoratedConnector);
    expect(await runAction('test_decorated_syntax', 'ping', {}, testContext())).toEqual({ pong: true });
  });
});
