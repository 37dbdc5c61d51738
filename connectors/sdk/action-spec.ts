/**
 * What one action takes and returns, as zod object schemas: the registry validates
 * params with `inputs` before `execute` runs, and the catalog (GET /api/connectors)
 * renders both with `z.toJSONSchema()` so the studio can build forms from them.
 */
import type { z } from 'zod';

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
  const { description, inputs, outputs } = definition ?? ({} as ActionSpecDefinition<I, O>);
  if (typeof description !== 'string' || !description.trim())
    throw new TypeError('ActionSpec: description is required');
  if (!isZodObject(inputs)) throw new TypeError('ActionSpec: inputs must be a zod object schema, e.g. z.object({...})');
  if (!isZodObject(outputs))
    throw new TypeError('ActionSpec: outputs must be a zod object schema, e.g. z.object({...})');
  return Object.freeze({ description, inputs, outputs });
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
