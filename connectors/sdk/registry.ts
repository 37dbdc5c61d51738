/**
 * Where connectors live at run time. The engine calls `runAction`, the API lists
 * `catalog()`; connectors get in with `register(...)` or `@registerConnector`.
 */
import { z } from 'zod';
import { attemptTimeoutOf, formatIssues, isZodObject, type ActionSpec } from './action-spec';
import type { ConnectorAdapter, ExecutionContext } from './connector-adapter';
import { settingVariable } from './connector-adapter';
import { ConnectorError, toConnectorError } from './connector-error';

const CODE = /^[a-z][a-z0-9_]{0,63}$/;
const UPPER_SNAKE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * A connector class with a constructor taking no arguments.
 *
 * @example
 * ```ts
 * const classes: ConnectorClass[] = [HttpConnector, SlackConnector, LegacyERPAdapter];
 * ```
 */
export type ConnectorClass = new () => ConnectorAdapter;

/**
 * One connector as GET /api/connectors shows it.
 *
 * @example
 * ```ts
 * const entry: CatalogEntry = catalog().find((c) => c.code === 'legacy_erp')!;
 * entry.actions[0].inputs; // JSON Schema of create_order's params
 * ```
 */
export interface CatalogEntry {
  code: string;
  name: string;
  description: string;
  secrets: string[];
  settings: string[];
  actions: { name: string; description: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[];
}

/**
 * The context `runAction` takes: an ExecutionContext where `secrets` and `settings`
 * default to `{}`, `allowPrivateNetwork` to `false` and `fetch` to the global fetch.
 *
 * @example
 * ```ts
 * const ctx: RunActionContext = { tenantId, runId, stepId, attempt: 1, idempotencyKey: `${runId}:${stepId}` };
 * ```
 */
export type RunActionContext = Omit<ExecutionContext, 'secrets' | 'settings' | 'allowPrivateNetwork' | 'fetch'> &
  Partial<Pick<ExecutionContext, 'secrets' | 'settings' | 'allowPrivateNetwork' | 'fetch'>>;

/**
 * A set of connectors. The module-level functions (`register`, `runAction`, ...) use
 * one shared default registry; make your own for isolated tests.
 *
 * @example
 * ```ts
 * const registry = new ConnectorRegistry();
 * registry.register(LegacyERPAdapter);
 * await registry.runAction('legacy_erp', 'create_order', params, context);
 * ```
 */
export class ConnectorRegistry {
  readonly #adapters = new Map<string, ConnectorAdapter>();
  readonly #catalog = new WeakMap<ConnectorAdapter, CatalogEntry>();

  /**
   * Adds a connector (an instance, or a class to instantiate). Throws if the code is
   * taken or the adapter is malformed, so mistakes surface when the Worker starts.
   */
  register<A extends ConnectorAdapter>(adapterOrClass: A | (new () => A)): A {
    const adapter = typeof adapterOrClass === 'function' ? new adapterOrClass() : adapterOrClass;
    validateAdapter(adapter);
    const existing = this.#adapters.get(adapter.code);
    if (existing) {
      throw new Error(
        `Connector "${adapter.code}" is already registered (by ${existing.constructor?.name || 'an object'})`,
      );
    }
    this.#adapters.set(adapter.code, adapter);
    return adapter;
  }

  get(code: string): ConnectorAdapter | undefined {
    return this.#adapters.get(code);
  }

  /** Every connector with its actions' inputs and outputs as JSON Schema, sorted by code. */
  catalog(): CatalogEntry[] {
    return [...this.#adapters.values()]
      .sort((a, b) => a.code.localeCompare(b.code))
      .map((adapter) => structuredClone(this.#entry(adapter)));
  }

  /** Operator settings of a connector from an env object (see the module-level `settingsFor`). */
  settingsFor(code: string, env: object): Record<string, string | undefined> {
    const vars = env as Record<string, unknown>;
    const out: Record<string, string | undefined> = {};
    for (const name of this.get(code)?.settings ?? []) {
      const value = vars[settingVariable(code, name)];
      out[name] = typeof value === 'string' ? value : undefined;
    }
    return out;
  }

  /** How long one attempt of the action may run with these params (see the module-level `attemptTimeoutMs`). */
  attemptTimeoutMs(code: string, action: string, params: unknown): number {
    const adapter = this.#adapters.get(code);
    const spec = adapter && Object.hasOwn(adapter.actions, action) ? adapter.actions[action] : undefined;
    return attemptTimeoutOf(spec, params);
  }

  /** Validates params and runs the action; every failure is a ConnectorError (see the module-level `runAction`). */
  async runAction(code: string, action: string, params: unknown, context: RunActionContext): Promise<unknown> {
    const adapter = this.#adapters.get(code);
    if (!adapter) {
      const known = [...this.#adapters.keys()].sort().join(', ') || 'none';
      throw new ConnectorError(`Unknown connector "${code}" (registered: ${known})`, { code: 'UNKNOWN_CONNECTOR' });
    }
    const spec = Object.hasOwn(adapter.actions, action) ? adapter.actions[action] : undefined;
    if (!spec) {
      const known = Object.keys(adapter.actions).join(', ');
      throw new ConnectorError(`Connector "${code}" has no action "${action}" (its actions: ${known})`, {
        code: 'UNKNOWN_ACTION',
      });
    }
    const parsed = spec.inputs.safeParse(params ?? {});
    if (!parsed.success) throw new ConnectorError(formatIssues(parsed.error.issues), { code: 'INVALID_PARAMS' });
    const ctx = executionContext(context);
    try {
      return await adapter.execute(action, parsed.data, ctx);
    } catch (err) {
      throw toConnectorError(err);
    }
  }

  #entry(adapter: ConnectorAdapter): CatalogEntry {
    let entry = this.#catalog.get(adapter);
    if (!entry) {
      entry = {
        code: adapter.code,
        name: adapter.name,
        description: adapter.description,
        secrets: [...(adapter.secrets ?? [])],
        settings: [...(adapter.settings ?? [])],
        actions: Object.entries(adapter.actions).map(([name, spec]) => ({
          name,
          description: spec.description,
          inputs: z.toJSONSchema(spec.inputs, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
          outputs: z.toJSONSchema(spec.outputs, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>,
        })),
      };
      this.#catalog.set(adapter, entry);
    }
    return entry;
  }
}

function validateAdapter(adapter: ConnectorAdapter) {
  const label = adapter?.constructor?.name || 'connector';
  const fail = (what: string): never => {
    throw new TypeError(`Cannot register ${label}: ${what}`);
  };
  if (!adapter || typeof adapter !== 'object') fail('expected a ConnectorAdapter instance or class');
  if (typeof adapter.code !== 'string' || !CODE.test(adapter.code))
    fail(`code must be lowercase snake_case, got ${JSON.stringify(adapter.code)}`);
  if (typeof adapter.name !== 'string' || !adapter.name.trim()) fail('name is required');
  if (typeof adapter.description !== 'string') fail('description is required');
  if (typeof adapter.execute !== 'function') fail('execute(action, params, context) is missing');
  if (!adapter.actions || typeof adapter.actions !== 'object' || Object.keys(adapter.actions).length === 0)
    fail('declare at least one action');
  for (const [name, spec] of Object.entries(adapter.actions) as [string, ActionSpec][]) {
    if (!CODE.test(name)) fail(`action names are lowercase snake_case, got "${name}"`);
    if (!spec || !isZodObject(spec.inputs) || !isZodObject(spec.outputs))
      fail(`action "${name}" is not an ActionSpec({description, inputs, outputs})`);
  }
  for (const field of ['secrets', 'settings'] as const) {
    const names = adapter[field];
    if (names === undefined) continue;
    if (!Array.isArray(names) || names.some((n) => typeof n !== 'string' || !UPPER_SNAKE.test(n)))
      fail(`${field} must be UPPER_SNAKE_CASE names`);
  }
}

function executionContext(c: RunActionContext): ExecutionContext {
  const outbound = c.fetch ?? fetch;
  return Object.freeze({
    ...c,
    secrets: Object.freeze({ ...c.secrets }),
    settings: Object.freeze({ ...c.settings }),
    allowPrivateNetwork: c.allowPrivateNetwork === true,
    // Called as a plain function: workerd's fetch throws "Illegal invocation" when
    // called as a method of another object (`context.fetch(...)`).
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => outbound(input, init)) as typeof fetch,
  });
}

/**
 * The registry behind the module-level functions and `@registerConnector`.
 *
 * @example
 * ```ts
 * defaultRegistry.get('http') === getConnector('http'); // true
 * ```
 */
export const defaultRegistry = new ConnectorRegistry();

/**
 * Registers a connector, given as a class (instantiated without arguments) or an
 * instance. Throws if its code is already registered.
 *
 * @example
 * ```ts
 * import { register } from '../sdk';
 * export class LegacyERPAdapter extends ConnectorAdapter { ... }
 * register(LegacyERPAdapter);
 * ```
 */
export function register<A extends ConnectorAdapter>(adapterOrClass: A | (new () => A)): A {
  return defaultRegistry.register(adapterOrClass);
}

/**
 * Class decorator (TC39 standard decorators): registers the class once it is fully
 * defined, as `register(TheClass)` would.
 *
 * Wrangler's esbuild lowers the syntax for workerd. Vite 8 (vitest) does not lower
 * standard decorators; tests need `standardDecorators()` from
 * `connectors/testing/standard-decorators.ts` in their Vite plugins (docs/connectors.md).
 *
 * @example
 * ```ts
 * @registerConnector
 * export class LegacyERPAdapter extends ConnectorAdapter { ... }
 * ```
 */
export function registerConnector<C extends ConnectorClass>(value: C, context: ClassDecoratorContext<C>): void {
  if (context?.kind !== 'class') throw new TypeError('@registerConnector decorates classes');
  // Initializers run after static fields, so the class is complete when registered.
  context.addInitializer(function (this: C) {
    defaultRegistry.register(this ?? value);
  });
}

/**
 * The connector registered under `code`, if any.
 *
 * @example
 * ```ts
 * getConnector('slack')?.actions.post_message.description;
 * ```
 */
export function getConnector(code: string): ConnectorAdapter | undefined {
  return defaultRegistry.get(code);
}

/**
 * Every registered connector for GET /api/connectors: code, name, description, the
 * secrets and settings it reads, and each action's inputs/outputs as JSON Schema.
 *
 * @example
 * ```ts
 * app.get('/api/connectors', (c) => c.json({ connectors: catalog() }));
 * ```
 */
export function catalog(): CatalogEntry[] {
  return defaultRegistry.catalog();
}

/**
 * A connector's operator settings from Worker variables named
 * `CONNECTOR_<CODE>_<NAME>` (only the names the connector declares).
 *
 * @example
 * ```ts
 * settingsFor('legacy_erp', env); // { URL: env.CONNECTOR_LEGACY_ERP_URL }
 * ```
 */
export function settingsFor(code: string, env: object): Record<string, string | undefined> {
  return defaultRegistry.settingsFor(code, env);
}

/**
 * How long one attempt of an action may run, in ms, given the params the workflow
 * rendered: the action spec's `timeoutMs` (clamped to 1 ms – 10 minutes), else 30 s, also
 * for unknown connectors and actions (their attempts fail at once). The engine aborts
 * `context.signal` at this limit and re-sends an attempt that went silent past it.
 *
 * @example
 * ```ts
 * attemptTimeoutMs('http', 'request', { url: 'https://example.com', timeoutMs: 5000 }); // 5000
 * attemptTimeoutMs('slack', 'post_message', {}); // 30000
 * ```
 */
export function attemptTimeoutMs(code: string, action: string, params: unknown): number {
  return defaultRegistry.attemptTimeoutMs(code, action, params);
}

/**
 * Runs one attempt of an action. Always rejects with a ConnectorError: unknown
 * connector or action and invalid params are non-retryable (the message names the
 * param, e.g. `params.url: Invalid URL`); errors the connector throws pass through;
 * anything else is wrapped as non-retryable, keeping its stack.
 *
 * @example
 * ```ts
 * const output = await runAction('legacy_erp', 'create_order', resolvedParams, {
 *   tenantId, runId, stepId, attempt,
 *   idempotencyKey: `${runId}:${stepId}`,
 *   secrets: { API_KEY: '...' },
 *   settings: settingsFor('legacy_erp', env),
 *   allowPrivateNetwork: env.ENVIRONMENT === 'development' || env.ENVIRONMENT === 'test',
 * });
 * ```
 */
export function runAction(code: string, action: string, params: unknown, context: RunActionContext): Promise<unknown> {
  return defaultRegistry.runAction(code, action, params, context);
}
