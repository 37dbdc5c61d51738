/**
 * The env backend: `{"$secret": "STRIPE_KEY", "backend": "env"}` reads the Worker variable
 * `AUTOMATE_STRIPE_KEY` (`wrangler secret put` in production, `.dev.vars` locally).
 *
 * Worker variables belong to the whole deployment, so in a multi-tenant deployment the
 * operator grants keys per tenant in `AUTOMATE_ENV_GRANTS`: JSON `{"<tenant slug>":
 * ["STRIPE_KEY", ...]}` (a list may be `["*"]`), or the plain string `*` for
 * single-tenant self-hosting. Unset grants nothing. The platform's own settings are
 * never readable this way, whatever the grants say.
 */
import type { Env } from '../env';
import { SECRET_KEY_PATTERN } from '../workflows/workflow-file';
import { SecretError } from './secret-error';

export const ENV_PREFIX = 'AUTOMATE_';

/** Keys whose `AUTOMATE_<KEY>` variable configures the platform itself. */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set(['MASTER_KEY', 'ENV_GRANTS']);

export const envVarName = (key: string) => `${ENV_PREFIX}${key}`;

/** `*` for every tenant, else the keys each tenant slug may read (a set holding `*` means all). */
export type EnvGrants = '*' | ReadonlyMap<string, ReadonlySet<string>>;

/** @throws SecretError NOT_CONFIGURED when the setting is not `*` or the documented JSON. */
export function parseEnvGrants(setting: string | undefined): EnvGrants {
  const text = setting?.trim() ?? '';
  if (!text) return new Map();
  if (text === '*') return '*';
  const bad = (why: string) =>
    new SecretError(
      'NOT_CONFIGURED',
      `AUTOMATE_ENV_GRANTS ${why}; expected "*" or {"<tenant slug>": ["KEY", ...]} (docs/secrets.md)`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('is not valid JSON');
  }
  if (parsed === '*') return '*';
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('is not a JSON object');
  const grants = new Map<string, Set<string>>();
  for (const [slug, keys] of Object.entries(parsed)) {
    if (
      !Array.isArray(keys) ||
      !keys.every((k) => typeof k === 'string' && (k === '*' || SECRET_KEY_PATTERN.test(k)))
    ) {
      throw bad(`lists something other than UPPER_SNAKE_CASE keys for tenant "${slug}"`);
    }
    grants.set(slug, new Set(keys));
  }
  return grants;
}

export function isEnvKeyGranted(grants: EnvGrants, tenantSlug: string, key: string): boolean {
  if (RESERVED_ENV_KEYS.has(key)) return false;
  if (grants === '*') return true;
  const keys = grants.get(tenantSlug);
  return !!keys && (keys.has('*') || keys.has(key));
}

/** Why this tenant cannot read this env key, or null when it can. Reveals nothing about other tenants. */
export function envGrantProblem(grants: EnvGrants, tenantSlug: string, key: string): string | null {
  if (RESERVED_ENV_KEYS.has(key))
    return `env key "${key}" is reserved for the platform and can never be read by a workflow`;
  if (!isEnvKeyGranted(grants, tenantSlug, key))
    return `env key "${key}" is not granted to this tenant; the operator grants env keys in AUTOMATE_ENV_GRANTS (docs/secrets.md)`;
  return null;
}

function rawEnvValue(env: Env, key: string): unknown {
  return (env as unknown as Record<string, unknown>)[envVarName(key)];
}

/** Whether the variable is set; only ask for keys the tenant was granted. */
export function isEnvKeySet(env: Env, key: string): boolean {
  const v = rawEnvValue(env, key);
  return typeof v === 'string' && v.length > 0;
}

/** @throws SecretError NOT_GRANTED, ENV_NOT_SET or NOT_CONFIGURED; never another variable's value. */
export function readEnvSecret(env: Env, tenantSlug: string, key: string): string {
  const problem = envGrantProblem(parseEnvGrants(env.AUTOMATE_ENV_GRANTS), tenantSlug, key);
  if (problem) throw new SecretError('NOT_GRANTED', problem, { key });
  const value = rawEnvValue(env, key);
  if (typeof value !== 'string' || !value) {
    throw new SecretError(
      'ENV_NOT_SET',
      `env key "${key}": the Worker variable ${envVarName(key)} is not set (wrangler secret put ${envVarName(key)}; .dev.vars locally)`,
      { key },
    );
  }
  return value;
}
