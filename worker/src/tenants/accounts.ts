/** Tenants and their people: sign-up creates both, login checks a password. */
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { tenants, users } from '../db/schema';
import { AppError } from '../errors';
import { newId, randomBytes, toHex } from '../lib/crypto';
import { auditInsert } from '../audit/audit-log';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../auth/passwords';
import { usersWithMfa } from '../auth/mfa/mfa-store';
import type { Role } from '../auth/principal';

export function slugify(name: string): string {
  const s = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return s || 'team';
}

export interface SignupInput {
  tenant: string;
  email: string;
  password: string;
}

const SIGNUP_ATTEMPTS = 3;

const emailTaken = (cause?: unknown) =>
  new AppError('email_taken', 'An account with this email already exists; sign in instead', { cause });

export async function signup(db: Db, input: SignupInput, meta: { ip: string | null; requestId: string }) {
  const email = input.email.toLowerCase();
  const taken = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (taken) throw emailTaken();

  const passwordHash = await hashPassword(input.password);
  const base = slugify(input.tenant);
  for (let attempt = 0; ; attempt++) {
    // A unique slug: the name's own if free, else with a short random suffix. The
    // lookup can race another sign-up; the unique index decides and we pick again.
    const exists = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, base)).get();
    const slug = exists || attempt > 0 ? `${base}-${toHex(randomBytes(3))}` : base;
    const tenant = { id: newId('tn'), slug, name: input.tenant };
    const user = { id: newId('usr'), tenantId: tenant.id, email, passwordHash, role: 'owner' as Role };
    try {
      await db.batch([
        db.insert(tenants).values(tenant),
        db.insert(users).values(user),
        auditInsert(db, {
          tenantId: tenant.id,
          actor: { type: 'user', id: user.id, label: email },
          action: 'auth.signup',
          targetType: 'tenant',
          targetId: tenant.id,
          context: { slug },
          ...meta,
        }),
      ]);
      return { tenant, user: { id: user.id, email, role: user.role } };
    } catch (e) {
      const text = `${String(e)} ${String((e as { cause?: unknown })?.cause ?? '')}`;
      if (!text.includes('UNIQUE')) throw e;
      // Two sign-ups racing for the same email: the first one wins.
      if (text.includes('users.email')) throw emailTaken(e);
      if (attempt + 1 >= SIGNUP_ATTEMPTS)
        throw new AppError('concurrent_modification', 'That team name was just taken; try again', { cause: e });
    }
  }
}

/** The user for these credentials, or null. Takes the same time whether or not the email exists. */
export async function checkCredentials(db: Db, email: string, password: string) {
  const row = await db
    .select({
      id: users.id,
      tenantId: users.tenantId,
      email: users.email,
      role: users.role,
      passwordHash: users.passwordHash,
    })
    .from(users)
    .where(eq(users.email, email.toLowerCase()))
    .get();
  const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_HASH);
  return { user: row && ok ? row : null, knownTenantId: row?.tenantId ?? null, knownUserId: row?.id ?? null };
}

export async function describeTenant(db: Db, tenantId: string) {
  return db
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
}

/** The tenant's people, with whether each has two-factor authentication on (owners and admins see it). */
export async function listMembers(db: Db, tenantId: string) {
  const rows = await db
    .select({ id: users.id, email: users.email, name: users.name, role: users.role, createdAt: users.createdAt })
    .from(users)
    .where(eq(users.tenantId, tenantId))
    .orderBy(users.createdAt);
  const withMfa = await usersWithMfa(
    db,
    tenantId,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, mfaEnabled: withMfa.has(r.id) }));
}
