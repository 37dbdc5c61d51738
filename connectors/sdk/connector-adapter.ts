/**
 * The contract between a connector and the engine: an adapter declares its actions
 * (ActionSpec), the secrets and operator settings it reads, and executes an action
 * with already-validated params and an ExecutionContext.
 */
import type { ActionSpec } from './action-spec';
import { ConnectorError } from './connector-error';

/**
 * Everything an action may use besides its params. Built by the engine for each attempt.
 *
 * @example
 * ```ts
 * async execute(action: string, params: Input, ctx: ExecutionContext) {
 *   const res = await ctx.fetch(url, { headers: { 'Idempotency-Key': ctx.idempotencyKey }, signal: ctx.signal });
 * }
 * ```
 */
export interface ExecutionContext {
  tenantId: string;
  runId: string;
  stepId: string;
  /** 1 for the first attempt of the step, 2 for its first retry, ... */
  attempt: number;
  /** The same for every attempt of one step in one run: send it so the remote can drop duplicates. */
  idempotencyKey: string;
  /** The secrets the step declared (`"secrets": {"API_KEY": {"$secret": "ERP_API_KEY"}}`), by the declared name. */
  secrets: Readonly<Record<string, string>>;
  /** Operator settings from Worker variables `CONNECTOR_<CODE>_<NAME>` (see `settingsFor`). */
  settings: Readonly<Record<string, string | undefined>>;
  /** `false` in production: refuse user-supplied URLs that point into private networks (`assertPublicUrl`). */
  allowPrivateNetwork: boolean;
  /** Aborted when the engine gives up on the attempt. */
  signal?: AbortSignal;
  /** Use this rather than the global `fetch`, so the engine can observe or replace outbound calls. */
  fetch: typeof fetch;
}

/**
 * Base class of every connector. Subclasses set the fields and implement `execute`;
 * the registry validates params with the action's `inputs` before `execute` runs.
 * A connector needs a constructor without arguments when registered as a class.
 *
 * @example
 * ```ts
 * export class LegacyERPAdapter extends ConnectorAdapter {
 *   readonly code = 'legacy_erp';
 *   readonly name = 'Legacy ERP';
 *   readonly description = 'Creates orders in the SOAP ERP';
 *   readonly secrets = ['API_KEY'];
 *   readonly settings = ['URL'];
 *   readonly actions = { create_order: CreateOrder };
 *
 *   async execute(action: string, params: ActionInput<typeof CreateOrder>, ctx: ExecutionContext) {
 *     const apiKey = requireSecret(ctx, 'API_KEY');
 *     const url = requireSetting(ctx, 'URL', 'legacy_erp');
 *     // ... call the ERP, throw ConnectorError on failure
 *     return { order_id: 'ERP-1', status: 'Created' };
 *   }
 * }
 * ```
 */
export abstract class ConnectorAdapter {
  /** Unique, lowercase snake_case: what workflow files write as `"connector"`. */
  abstract readonly code: string;
  /** Human name for the catalog, e.g. `Legacy ERP`. */
  abstract readonly name: string;
  abstract readonly description: string;
  /** Action name (lowercase snake_case) to its spec. */
  abstract readonly actions: Readonly<Record<string, ActionSpec>>;
  /** Names (UPPER_SNAKE_CASE) of the secrets the actions read from `context.secrets`. */
  readonly secrets?: readonly string[];
  /** Names (UPPER_SNAKE_CASE) of operator settings, read from `CONNECTOR_<CODE>_<NAME>`. */
  readonly settings?: readonly string[];

  /**
   * Runs `action` with validated `params`. Resolve with the action's output; throw a
   * ConnectorError (retryable or not) on failure.
   */
  // biome-ignore lint/suspicious/noExplicitAny: each action narrows params through its own zod schema; subclasses type them per action
  abstract execute(action: string, params: any, context: ExecutionContext): Promise<unknown>;
}

/**
 * A declared secret's value, or a non-retryable ConnectorError telling the workflow
 * author to declare it.
 *
 * @example
 * ```ts
 * const token = requireSecret(ctx, 'SLACK_BOT_TOKEN');
 * ```
 */
export function requireSecret(context: ExecutionContext, name: string): string {
  const value = context.secrets[name];
  if (typeof value === 'string' && value !== '') return value;
  throw new ConnectorError(
    `Secret ${name} is missing: declare it on the step, e.g. "secrets": {"${name}": {"$secret": "<STORED_KEY>"}}`,
    { code: 'MISSING_SECRET' },
  );
}

/**
 * An operator setting's value, or a non-retryable ConnectorError naming the Worker
 * variable to set.
 *
 * @example
 * ```ts
 * const url = requireSetting(ctx, 'URL', 'legacy_erp'); // reads CONNECTOR_LEGACY_ERP_URL
 * ```
 */
export function requireSetting(context: ExecutionContext, name: string, connectorCode: string): string {
  const value = context.settings[name];
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  throw new ConnectorError(`The operator has not configured ${settingVariable(connectorCode, name)}`, {
    code: 'MISSING_SETTING',
  });
}

/**
 * The Worker variable holding a connector setting.
 *
 * @example
 * ```ts
 * settingVariable('legacy_erp', 'URL'); // 'CONNECTOR_LEGACY_ERP_URL'
 * ```
 */
export function settingVariable(connectorCode: string, name: string): string {
  return `CONNECTOR_${connectorCode.toUpperCase()}_${name}`;
}
