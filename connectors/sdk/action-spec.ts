/**
 * What one action takes and returns, as zod object schemas: the registry validates
 * params with `inputs` before `execute` runs, and the catalog (GET /api/connectors)
 * renders both with `z.toJSONSchema()` so the studio can build forms from them.
 */
import type { z } from 'zod';

/**
 * How long one attempt of an action may run when its spec says nothing (30 s, the same as
 * `fetchText`'s default timeout).
 *
 * @example
 * ```ts
 * ActionSpec({ description, inputs, outputs, timeoutMs: 2 * DEFAULT_ATTEMPT_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;
/**
 * The longest time limit an action may declare (10 minutes): a Queue consumer invocation
 * is cut off at 15 minutes, and a lost attempt is re-sent only after its limit passes.
 *
 * @example
 * ```ts
 * Math.min(requested, MAX_ATTEMPT_TIMEOUT_MS);
 * ```
 */
export const MAX_ATTEMPT_TIMEOUT_MS = 10 * 60_000;

/**
 * An action's time limit per attempt: fixed milliseconds, or read from the params as the
 * workflow rendered them (not yet validated, so check the type; `undefined` means the default).
 *
 * @example
 * ```ts
 * const fromParams: AttemptTimeout = (params) => (typeof params.timeoutMs === 'number' ? params.timeoutMs : undefined);
 * ```
 */
export type AttemptTimeout = number | ((params: Readonly<Record<string, unknown>>) => number | undefined);

/**
 * What `ActionSpec()` takes.
 *
 * @example
 * ```ts
 * const definition: ActionSpecDefinition<typeof Inputs, typeof Outputs> = { description: 'Ping', inputs: Inputs, outputs: Outputs };
 * ```
 */
export interface ActionSpecDefinition<I extends z.ZodObject, O extends z.ZodObject> {
  /** One sentence for the catalog and the studio. */
  description: string;
  /** Params, validated before `execute` runs. Use `.describe()` on fields: it becomes their help text. */
  inputs: I;
  /** What `execute` resolves with (documentation; not enforced at run time). */
  outputs: O;
  /**
   * The longest one attempt may run, in ms (default 30 s, at most 10 minutes). The engine
   * aborts `context.signal` when it passes and stops waiting shortly after; an attempt whose
   * consumer went silent is re-sent once it has passed (docs/execution.md).
   */
  timeoutMs?: AttemptTimeout;
}

/**
 * One action of a connector, as the registry uses it (made by `ActionSpec()`).
 *
 * @example
 * ```ts
 * readonly actions: Record<string, ActionSpec> = { create_order: CreateOrder };
 * ```
 */
export interface ActionSpec<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  readonly description: string;
  readonly inputs: I;
  readonly outputs: O;
  readonly timeoutMs?: AttemptTimeout;
}

/**
 * Declares an action of a connector.
 *
 * @example
 * ```ts
 * const CreateOrder = ActionSpec({
 *   description: 'Create a sales order in the ERP',
 *   inputs: z.object({ customer_id: z.string(), items: z.array(Item).min(1) }),
 *   outputs: z.object({ order_id: z.string(), status: z.string() }),
 * });
 * type CreateOrderInput = ActionInput<typeof CreateOrder>; // what execute receives
 * ```
 */
export function ActionSpec<I extends z.ZodObject, O extends z.ZodObject>(
  definition: ActionSpecDefinition<I, O>,
): ActionSpec<I, O> {
  const { description, inputs, outputs, timeoutMs } = definition ?? ({} as ActionSpecDefinition<I, O>);
  if (typeof description !== 'string' || !description.trim())
    throw new TypeError('ActionSpec: description is required');
  if (!isZodObject(inputs)) throw new TypeError('ActionSpec: inputs must be a zod object schema, e.g. z.object({...})');
  if (!isZodObject(outputs))
    throw new TypeError('ActionSpec: outputs must be a zod object schema, e.g. z.object({...})');
  if (timeoutMs === undefined) return Object.freeze({ description, inputs, outputs });
  if (typeof timeoutMs !== 'function' && !isTimeout(timeoutMs))
    throw new TypeError(
      `ActionSpec: timeoutMs must be whole milliseconds from 1 to ${MAX_ATTEMPT_TIMEOUT_MS}, or a function of the params`,
    );
  return Object.freeze({ description, inputs, outputs, timeoutMs });
}

/**
 * The validated params `execute` receives for an action (after defaults and transforms).
 *
 * @example
 * ```ts
 * async execute(action: string, params: ActionInput<typeof CreateOrder>, ctx: ExecutionContext) { params.items[0].quantity; }
 * ```
 */
export type ActionInput<S extends ActionSpec> = z.output<S['inputs']>;
/**
 * What an action's `execute` resolves with.
 *
 * @example
 * ```ts
 * const output: ActionOutput<typeof CreateOrder> = { order_id: 'ERP-1', status: 'Created' };
 * ```
 */
export type ActionOutput<S extends ActionSpec> = z.input<S['outputs']>;

function isTimeout(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_ATTEMPT_TIMEOUT_MS;
}

/**
 * Internal. The time limit of one attempt of `spec` with these rendered params: what the
 * spec declares, clamped to 1 ms to 10 minutes; the default when it declares nothing or its
 * function returns nothing usable (the params are then invalid and the attempt fails at once).
 */
export function attemptTimeoutOf(spec: ActionSpec | undefined, params: unknown): number {
  const declared = spec?.timeoutMs;
  let ms: unknown = declared;
  if (typeof declared === 'function') {
    try {
      ms = declared((params && typeof params === 'object' ? params : {}) as Record<string, unknown>);
    } catch {
      ms = undefined;
    }
  }
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return DEFAULT_ATTEMPT_TIMEOUT_MS;
  return Math.min(MAX_ATTEMPT_TIMEOUT_MS, Math.max(1, Math.round(ms)));
}

/** Internal. Duck-typed so that a schema from another copy of zod 4 is accepted too. */
export function isZodObject(value: unknown): value is z.ZodObject {
  const v = value as { _zod?: { def?: { type?: unknown } }; safeParse?: unknown } | undefined;
  return !!v && typeof v.safeParse === 'function' && v._zod?.def?.type === 'object';
}

/** Internal. Formats a zod issue path as `params.items[0].sku`. */
export function formatParamPath(path: ReadonlyArray<PropertyKey>): string {
  let out = 'params';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

/** Internal. One line naming each bad param, e.g. `params.url: Invalid URL; params.method: ...`. */
export function formatIssues(issues: ReadonlyArray<z.core.$ZodIssue>, max = 5): string {
  const lines = issues.slice(0, max).map((i) => `${formatParamPath(i.path)}: ${i.message}`);
  if (issues.length > max) lines.push(`(and ${issues.length - max} more)`);
  return lines.join('; ');
}
