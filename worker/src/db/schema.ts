/**
 * D1 tables. Every table that holds tenant data carries `tenant_id`, and every
 * query in worker/src filters by it (see worker/test/security.test.ts).
 * Times are epoch milliseconds.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { Scope } from '../auth/principal';
import type { AttemptLog, RunState } from '../run/run-state';
import type { StepError } from '../run/step-message';
import type { OidcDiscovery } from '../sso/discovery';
import type { SecretRef } from '../workflows/workflow-file';

const now = sql`(unixepoch('subsec') * 1000)`;

export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull().default(now),
  /** Days the Explorer keeps finished runs; null means the default (worker/src/tenants/settings.ts). */
  runRetentionDays: integer('run_retention_days'),
  /**
   * Bumped in the same batch as every write to the tenant's stored secrets: isolates that
   * cache decrypted signing secrets compare it (read with the webhook's workflow lookup)
   * so a rotation made anywhere is honoured by the very next webhook.
   */
  secretsRevision: integer('secrets_revision').notNull().default(0),
  /** Owners require every member to use TOTP MFA (docs/accounts.md); password sessions without it may only enrol. */
  mfaRequired: integer('mfa_required', { mode: 'boolean' }).notNull().default(false),
});

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['owner', 'admin', 'editor', 'viewer'] }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
    /** What they call themselves (set when accepting an invitation); null for accounts made before. */
    name: text('name'),
    /** When they proved the address (verification link, reset link or invitation); null until then. */
    emailVerifiedAt: integer('email_verified_at'),
  },
  // One account per email across the platform: login needs no tenant picker.
  (t) => [uniqueIndex('users_email_unique').on(t.email), index('users_tenant_idx').on(t.tenantId)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    // SHA-256 of the cookie value: a leaked table does not yield live sessions.
    idHash: text('id_hash').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    /** How the session was signed in: SSO sessions skip Automate's TOTP (the identity provider does MFA). */
    method: text('method', { enum: ['password', 'sso'] })
      .notNull()
      .default('password'),
  },
  (t) => [index('sessions_user_idx').on(t.tenantId, t.userId)],
);

/**
 * A user's TOTP authenticator (RFC 6238). The shared secret is sealed exactly like a stored
 * secret (secrets/cipher.ts: AES-256-GCM under the tenant's key derived from master key
 * `key_id`), so master-key rotation moves these rows too. `enabled_at` null: enrolment
 * started but not confirmed with a code yet. `last_used_step`: the 30-second step of the last
 * code accepted; only later steps are accepted, so a code works once.
 */
export const userMfa = sqliteTable(
  'user_mfa',
  {
    userId: text('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    ciphertext: text('ciphertext').notNull(),
    createdAt: integer('created_at').notNull(),
    enabledAt: integer('enabled_at'),
    lastUsedStep: integer('last_used_step'),
  },
  (t) => [index('user_mfa_tenant_idx').on(t.tenantId), index('user_mfa_key_id_idx').on(t.keyId)],
);

/** Single-use recovery codes, stored as SHA-256 of user id and code; `used_at` set on use. */
export const mfaRecoveryCodes = sqliteTable(
  'mfa_recovery_codes',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [
    uniqueIndex('mfa_recovery_codes_unique').on(t.userId, t.codeHash),
    index('mfa_recovery_codes_tenant_idx').on(t.tenantId),
  ],
);

/**
 * The step between a correct password and a session for a user with MFA: a random token
 * kept only as its SHA-256, valid 5 minutes, deleted when used or after too many wrong codes.
 */
export const mfaChallenges = sqliteTable(
  'mfa_challenges',
  {
    idHash: text('id_hash').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    failures: integer('failures').notNull().default(0),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('mfa_challenges_user_idx').on(t.tenantId, t.userId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    name: text('name').notNull(),
    // First characters of the token, shown in lists so people can tell tokens apart.
    prefix: text('prefix').notNull(),
    tokenHash: text('token_hash').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<Scope[]>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_unique').on(t.tokenHash), index('api_tokens_tenant_idx').on(t.tenantId)],
);

/**
 * A tenant's OpenID Connect single sign-on (docs/sso.md). One per tenant. The client secret
 * is a reference to a stored or env secret, never a value; `discovery` is the provider's
 * metadata as fetched and checked when the configuration was saved.
 */
export const ssoConfigs = sqliteTable('sso_configs', {
  tenantId: text('tenant_id')
    .primaryKey()
    .references(() => tenants.id),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  clientSecret: text('client_secret', { mode: 'json' }).$type<SecretRef>().notNull(),
  domains: text('domains', { mode: 'json' }).$type<string[]>().notNull(),
  defaultRole: text('default_role', { enum: ['admin', 'editor', 'viewer'] }).notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull(),
  /** Password sign-in refused for this tenant's members whose address is in `domains`. */
  requireSso: integer('require_sso', { mode: 'boolean' }).notNull(),
  discovery: text('discovery', { mode: 'json' }).$type<OidcDiscovery>().notNull(),
  updatedAt: integer('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

/** Which tenant an email domain signs in through: a domain belongs to one tenant at most. */
export const ssoDomains = sqliteTable(
  'sso_domains',
  {
    domain: text('domain').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
  },
  (t) => [index('sso_domains_tenant_idx').on(t.tenantId)],
);

/**
 * SSO sign-ins in progress. Keyed by the SHA-256 of the flow cookie's random value; the
 * `state` is kept only as a hash, and the nonce and PKCE verifier are derived from the cookie
 * value (worker/src/sso/login-flow.ts), so this table holds nothing that completes a sign-in.
 */
export const ssoLogins = sqliteTable(
  'sso_logins',
  {
    idHash: text('id_hash').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    stateHash: text('state_hash').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sso_logins_expires_idx').on(t.expiresAt)],
);

/**
 * Fixed-window rate counters of every purpose (sign-in failures, wrong MFA codes, mailed
 * links, copilot drafts), keyed `<purpose>:<kind>:<subject>` (worker/src/lib/rate-windows.ts).
 * The window's end is stored rather than its start, so windows of different lengths share
 * one table and the minute cron finds expired rows by one indexed range.
 */
export const rateWindows = sqliteTable(
  'rate_windows',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull(),
    resetsAt: integer('resets_at').notNull(),
  },
  (t) => [index('rate_windows_resets_idx').on(t.resetsAt)],
);

/**
 * Single-use links mailed to an account's address: email verification and password reset.
 * Only the SHA-256 of the link's token is stored (32 random bytes: a slow hash buys nothing).
 */
export const accountLinks = sqliteTable(
  'account_links',
  {
    tokenHash: text('token_hash').primaryKey(),
    purpose: text('purpose', { enum: ['verify_email', 'reset_password'] }).notNull(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The address the link was sent to: a verification only counts for the address it reached. */
    email: text('email').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('account_links_user_idx').on(t.tenantId, t.userId, t.purpose)],
);

/** Invitations to join a tenant with a role; the link's token is stored as its SHA-256 only. */
export const invitations = sqliteTable(
  'invitations',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    email: text('email').notNull(),
    role: text('role', { enum: ['owner', 'admin', 'editor', 'viewer'] }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: text('invited_by').notNull(),
    invitedByLabel: text('invited_by_label'),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    acceptedAt: integer('accepted_at'),
    acceptedUserId: text('accepted_user_id'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [
    uniqueIndex('invitations_token_unique').on(t.tokenHash),
    index('invitations_tenant_idx').on(t.tenantId, t.email),
  ],
);

/**
 * The local outbox: every message the Worker "sends" in development and tests, read at
 * GET /api/dev/outbox and /studio/dev/outbox. Never written in production (worker/src/mail/).
 */
export const mailOutbox = sqliteTable(
  'mail_outbox',
  {
    id: text('id').primaryKey(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    template: text('template').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('mail_outbox_to_idx').on(t.to, t.createdAt)],
);

export const workflows = sqliteTable(
  'workflows',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    name: text('name').notNull(),
    // The draft exactly as imported or saved, so export returns the same file.
    draft: text('draft').notNull(),
    activeVersion: integer('active_version'),
    hookId: text('hook_id').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('workflows_tenant_key_unique').on(t.tenantId, t.key),
    uniqueIndex('workflows_hook_unique').on(t.hookId),
  ],
);

export const workflowVersions = sqliteTable(
  'workflow_versions',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id),
    version: integer('version').notNull(),
    definition: text('definition').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('workflow_versions_unique').on(t.workflowId, t.version),
    index('workflow_versions_tenant_idx').on(t.tenantId),
  ],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: text('id').primaryKey(),
    // Null only for events with no tenant to file them under (a login for an unknown email).
    tenantId: text('tenant_id'),
    at: integer('at').notNull(),
    actorType: text('actor_type', { enum: ['user', 'token', 'system', 'anonymous'] }).notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    runId: text('run_id'),
    context: text('context', { mode: 'json' }).$type<Record<string, unknown>>(),
    ip: text('ip'),
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_tenant_at_idx').on(t.tenantId, t.at),
    // With `at` last, a run's entries come out of the index already in time order; without
    // it SQLite preferred walking the whole tenant by time to avoid the sort.
    index('audit_tenant_run_idx').on(t.tenantId, t.runId, t.at),
    // The Audit Log's action filter: step.attempt entries outnumber all others, so finding
    // `secret.*` by walking the tenant's entries by time would read nearly the whole log.
    index('audit_tenant_action_idx').on(t.tenantId, t.action, t.at),
  ],
);

/** One row per run, for the Execution Explorer. The run's Durable Object is the source of truth while it runs. */
export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id),
    workflowKey: text('workflow_key').notNull(),
    version: integer('version').notNull(),
    status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed'] }).notNull(),
    triggerType: text('trigger_type').notNull(),
    /** What started it: webhook delivery id, schedule slot, token or user. */
    triggerRef: text('trigger_ref'),
    /** The event as received (`{body, headers, query}`), recorded before the trigger is acknowledged. */
    trigger: text('trigger', { mode: 'json' }).$type<{
      body: unknown;
      headers: Record<string, string>;
      query: Record<string, string>;
    }>(),
    error: text('error', { mode: 'json' }).$type<NonNullable<RunState['error']>>(),
    /** Set when this run re-runs a failed one from its failed step. */
    retryOf: text('retry_of'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('runs_tenant_created_idx').on(t.tenantId, t.createdAt),
    index('runs_tenant_status_idx').on(t.tenantId, t.status, t.createdAt),
    index('runs_tenant_workflow_idx').on(t.tenantId, t.workflowKey, t.createdAt),
  ],
);

export const runSteps = sqliteTable(
  'run_steps',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    stepId: text('step_id').notNull(),
    type: text('type').notNull(),
    status: text('status', {
      enum: ['pending', 'ready', 'queued', 'running', 'waiting', 'succeeded', 'failed', 'skipped'],
    }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Every attempt: number, start, duration, outcome, error. */
    attemptLog: text('attempt_log', { mode: 'json' }).$type<AttemptLog[]>(),
    input: text('input', { mode: 'json' }),
    output: text('output', { mode: 'json' }),
    error: text('error', { mode: 'json' }).$type<StepError>(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    seq: integer('seq').notNull(),
  },
  (t) => [uniqueIndex('run_steps_pk').on(t.runId, t.stepId), index('run_steps_tenant_idx').on(t.tenantId, t.runId)],
);

/**
 * Delivery ids of webhook (and API, with Idempotency-Key) triggers: the same id never
 * starts a second run. The event itself is kept on the run (`runs.trigger`).
 */
export const webhookEvents = sqliteTable(
  'webhook_events',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id),
    deliveryId: text('delivery_id').notNull(),
    runId: text('run_id').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [
    uniqueIndex('webhook_events_delivery_unique').on(t.workflowId, t.deliveryId),
    // By age within a tenant, so retention prunes a time window without scanning the tenant's events.
    index('webhook_events_tenant_received_idx').on(t.tenantId, t.receivedAt),
  ],
);

/** One row per (workflow, minute): a cron slot starts at most one run. */
export const scheduleSlots = sqliteTable(
  'schedule_slots',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    workflowId: text('workflow_id')
      .notNull()
      .references(() => workflows.id),
    slot: integer('slot').notNull(),
    runId: text('run_id').notNull(),
  },
  (t) => [uniqueIndex('schedule_slots_unique').on(t.workflowId, t.slot)],
);

/**
 * The schedule of every workflow whose active version has a schedule trigger, written in
 * the same batch as the publish or roll back that makes it so and deleted when the active
 * version stops being a schedule. The minute cron finds due work through the
 * `next_fire_at` index and never parses a definition to do it (docs/workflow-file.md#schedules).
 */
export const workflowSchedules = sqliteTable(
  'workflow_schedules',
  {
    workflowId: text('workflow_id')
      .primaryKey()
      .references(() => workflows.id),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    /** The active version this schedule came from; its definition is what a fire runs. */
    version: integer('version').notNull(),
    cron: text('cron').notNull(),
    timezone: text('timezone').notNull().default('UTC'),
    /**
     * The next slot to fire (epoch ms). 0: not computed yet (rows the migration backfilled;
     * the next minute computes it without firing). Null: never again (the expression cannot
     * be evaluated; publishing a new version writes a fresh row).
     */
    nextFireAt: integer('next_fire_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('workflow_schedules_due_idx').on(t.nextFireAt), index('workflow_schedules_tenant_idx').on(t.tenantId)],
);

/**
 * Stored secrets (docs/secrets.md): AES-256-GCM ciphertext under a per-tenant key derived
 * from the master key `key_id`. A write inserts version N+1 and deletes what it replaces in
 * one batch, so the unique index makes two racing writers conflict instead of both writing
 * N+1. No plaintext is ever kept; the one old ciphertext kept is version N after a `rotate`,
 * for 24 hours of webhook signature checks (docs/webhooks.md).
 */
export const secrets = sqliteTable(
  'secrets',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    version: integer('version').notNull(),
    /** Which entry of AUTOMATE_MASTER_KEY encrypted it. */
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    /** base64 ciphertext with the GCM tag; additional data binds it to tenant, key and version. */
    ciphertext: text('ciphertext').notNull(),
    createdAt: integer('created_at').notNull(),
    rotatedAt: integer('rotated_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [
    uniqueIndex('secrets_tenant_key_version_unique').on(t.tenantId, t.key, t.version),
    index('secrets_key_id_idx').on(t.keyId),
  ],
);

/** Last use of env-backend secrets per tenant (the value lives in the Worker's variables). */
export const envSecretUsage = sqliteTable(
  'env_secret_usage',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    key: text('key').notNull(),
    lastUsedAt: integer('last_used_at').notNull(),
  },
  (t) => [uniqueIndex('env_secret_usage_unique').on(t.tenantId, t.key)],
);
