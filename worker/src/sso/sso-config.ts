/**
 * A tenant's SSO configuration (docs/sso.md): read, saved (after the provider's discovery
 * document is fetched and checked, and the client secret reference resolves), deleted.
 * Email domains are claimed in `sso_domains`, whose primary key makes one domain belong to
 * one tenant at most: a second tenant claiming it is refused (409), never silently moved.
 */
import { and, eq, inArray, ne } from 'drizzle-orm';
import type { Actor } from '../auth/principal';
import { auditInsert } from '../audit/audit-log';
import type { Db } from '../db/client';
import { ssoConfigs, ssoDomains, tenants } from '../db/schema';
import type { Env } from '../env';
import { AppError } from '../errors';
import { createSecretResolver } from '../secrets/resolver';
import { SecretError } from '../secrets/secret-error';
import type { SecretRef } from '../workflows/workflow-file';
import { discover, type OidcDiscovery } from './discovery';
import { ProviderError } from './provider-fetch';

export type JitRole = 'admin' | 'editor' | 'viewer';

export interface SsoSettings {
  issuer: string;
  clientId: string;
  clientSecret: SecretRef;
  domains: string[];
  defaultRole: JitRole;
  enabled: boolean;
  requireSso: boolean;
}

export interface SsoConfig extends SsoSettings {
  tenantId: string;
  discovery: OidcDiscovery;
  updatedAt: number;
  updatedBy: string;
}

interface Meta {
  actor: Actor;
  ip: string | null;
  requestId: string;
}

export async function getSsoConfig(db: Db, tenantId: string): Promise<SsoConfig | null> {
  const row = await db.select().from(ssoConfigs).where(eq(ssoConfigs.tenantId, tenantId)).get();
  return row ?? null;
}

/** The tenant that signs this address in through SSO (enabled configurations only), or null. */
export async function ssoConfigForEmail(db: Db, email: string): Promise<SsoConfig | null> {
  const domain = emailDomain(email);
  if (!domain) return null;
  const row = await db
    .select({ config: ssoConfigs })
    .from(ssoDomains)
    .innerJoin(ssoConfigs, eq(ssoConfigs.tenantId, ssoDomains.tenantId))
    .where(and(eq(ssoDomains.domain, domain), eq(ssoConfigs.enabled, true)))
    .get();
  return row?.config ?? null;
}

export const emailDomain = (email: string) => {
  const at = email.lastIndexOf('@');
  return at > 0 ? email.slice(at + 1).toLowerCase() : null;
};

/** Describes config changes for the audit log: which fields changed, never the secret (only its key). */
function changedFields(before: SsoConfig | null, after: SsoSettings) {
  const fields = ['issuer', 'clientId', 'clientSecret', 'domains', 'defaultRole', 'enabled', 'requireSso'] as const;
  return fields.filter((f) => JSON.stringify(before?.[f]) !== JSON.stringify(after[f]));
}

export async function saveSsoConfig(
  env: Env,
  db: Db,
  tenantId: string,
  settings: SsoSettings,
  meta: Meta,
): Promise<SsoConfig> {
  const domains = [...new Set(settings.domains.map((d) => d.toLowerCase()))];
  const taken = await db
    .select({ domain: ssoDomains.domain })
    .from(ssoDomains)
    .where(and(inArray(ssoDomains.domain, domains), ne(ssoDomains.tenantId, tenantId)));
  if (taken.length)
    throw new AppError(
      'sso_domain_taken',
      `${taken.map((t) => t.domain).join(', ')} already signs in through another team`,
      {
        details: taken.map((t) => ({
          path: `domains[${domains.indexOf(t.domain)}]`,
          message: 'another team has claimed this domain for its single sign-on',
        })),
      },
    );
  await checkSecretResolves(env, db, tenantId, settings.clientSecret);
  let discovery: OidcDiscovery;
  try {
    discovery = await discover(env, settings.issuer);
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    throw new AppError('sso_discovery_failed', `The issuer's discovery was refused: ${e.message}`, {
      details: [{ path: 'issuer', message: e.message }],
    });
  }
  const before = await getSsoConfig(db, tenantId);
  const config: SsoConfig = {
    ...settings,
    domains,
    tenantId,
    discovery,
    updatedAt: Date.now(),
    updatedBy: meta.actor.id ?? 'unknown',
  };
  const { tenantId: _t, ...values } = config;
  try {
    // One transaction: the domains are re-inserted without a conflict clause, so a domain
    // another team claimed since the check above fails the whole batch and nothing is saved.
    await db.batch([
      db.insert(ssoConfigs).values(config).onConflictDoUpdate({ target: ssoConfigs.tenantId, set: values }),
      db.delete(ssoDomains).where(eq(ssoDomains.tenantId, tenantId)),
      db.insert(ssoDomains).values(domains.map((domain) => ({ domain, tenantId }))),
      auditInsert(db, {
        tenantId,
        actor: meta.actor,
        action: before ? 'sso.config.update' : 'sso.config.create',
        targetType: 'sso',
        targetId: tenantId,
        context: {
          changed: changedFields(before, config),
          issuer: config.issuer,
          clientId: config.clientId,
          clientSecretKey: config.clientSecret.$secret,
          domains,
          defaultRole: config.defaultRole,
          enabled: config.enabled,
          requireSso: config.requireSso,
        },
        ip: meta.ip,
        requestId: meta.requestId,
      }),
    ]);
  } catch (e) {
    const text = `${String(e)} ${String((e as { cause?: unknown })?.cause ?? '')}`;
    if (!text.includes('UNIQUE') && !text.includes('PRIMARY KEY')) throw e;
    throw new AppError('sso_domain_taken', 'One of these domains was just claimed by another team; nothing was saved', {
      cause: e,
      details: [{ path: 'domains', message: 'a domain was claimed by another team at the same moment' }],
    });
  }
  return config;
}

async function checkSecretResolves(env: Env, db: Db, tenantId: string, ref: SecretRef) {
  const tenant = await db
    .select({ id: tenants.id, slug: tenants.slug })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  try {
    await createSecretResolver(env, db).resolveForStep(tenant!, { CLIENT_SECRET: ref });
  } catch (e) {
    if (!(e instanceof SecretError)) throw e;
    throw new AppError('invalid_request', `clientSecret: ${e.message}`, {
      details: [{ path: 'clientSecret', message: e.message }],
    });
  }
}

export async function deleteSsoConfig(db: Db, tenantId: string, meta: Meta): Promise<boolean> {
  const before = await getSsoConfig(db, tenantId);
  if (!before) return false;
  await db.batch([
    db.delete(ssoDomains).where(eq(ssoDomains.tenantId, tenantId)),
    db.delete(ssoConfigs).where(eq(ssoConfigs.tenantId, tenantId)),
    auditInsert(db, {
      tenantId,
      actor: meta.actor,
      action: 'sso.config.delete',
      targetType: 'sso',
      targetId: tenantId,
      context: { issuer: before.issuer, domains: before.domains },
      ip: meta.ip,
      requestId: meta.requestId,
    }),
  ]);
  return true;
}

/** Whether the tenant's SSO configuration uses this stored secret (it may not be deleted then). */
export async function ssoUsesStoredSecret(db: Db, tenantId: string, key: string): Promise<boolean> {
  const config = await getSsoConfig(db, tenantId);
  return !!config && config.clientSecret.$secret === key && (config.clientSecret.backend ?? 'stored') === 'stored';
}

/**
 * Password sign-in is refused for a member of a tenant that requires SSO for their domain.
 * Only that tenant's own members: claiming a domain never locks out people of other teams.
 */
export async function requiresSso(db: Db, user: { tenantId: string; email: string }): Promise<boolean> {
  const config = await ssoConfigForEmail(db, user.email);
  return !!config && config.requireSso && config.tenantId === user.tenantId;
}
