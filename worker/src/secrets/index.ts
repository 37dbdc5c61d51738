/**
 * Secrets (docs/secrets.md). What other modules use:
 * - the engine: `createSecretResolver(env, db).resolveForStep(tenant, step.secrets, { stepId })`,
 *   then `redactor.scrub(...)` / `redactor.scrubText(...)` on everything it keeps or logs;
 * - the scheduled handler: `reencryptBatch(db, await keyringFromEnv(env), limit)`.
 */
export { createSecretResolver, type ResolvedSecrets, type SecretResolver, type TenantRef } from './resolver';
export { createRedactor, MASK, MIN_SCRUB_LENGTH, Redactor } from './redactor';
export { SecretError, type SecretErrorCode } from './secret-error';
export { keyringFromEnv, parseKeyring, type Keyring } from './keyring';
export { countByKeyId, reencryptBatch, type ReencryptReport } from './secret-store';
