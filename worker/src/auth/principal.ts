/** Who is calling: a signed-in user (session cookie) or a tenant API token. */
export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = [
  'workflows:read',
  'workflows:write',
  'runs:trigger',
  'runs:read',
  'secrets:write',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];
/** What a new token gets when no scopes are asked for: everything but secrets and audit. */
export const DEFAULT_TOKEN_SCOPES: readonly Scope[] = [
  'workflows:read',
  'workflows:write',
  'runs:trigger',
  'runs:read',
];

export type SignInMethod = 'password' | 'sso';

export type Principal =
  | {
      type: 'user';
      tenantId: string;
      userId: string;
      email: string;
      role: Role;
      /** How this session signed in; SSO sessions skip Automate's TOTP (the identity provider does MFA). */
      signInMethod?: SignInMethod;
      /**
       * The tenant requires MFA, this password session's user has none: every route but
       * enrolment answers `mfa_enrollment_required` (worker/src/auth/middleware.ts).
       */
      mfaEnrollmentRequired?: boolean;
    }
  | { type: 'token'; tenantId: string; tokenId: string; tokenName: string; scopes: Scope[] };

/** What a route asks of its caller: a minimum role for users and a scope for tokens. */
export interface Permission {
  role: Role;
  /** Omitted: tokens may not call the route at all (e.g. managing tokens). `any`: every token may. */
  scope?: Scope | 'any';
}

export type PermissionCheck = 'ok' | 'forbidden';

export function check(principal: Principal, need: Permission): PermissionCheck {
  if (principal.type === 'user') return ROLES.indexOf(principal.role) >= ROLES.indexOf(need.role) ? 'ok' : 'forbidden';
  if (need.scope === 'any') return 'ok';
  return need.scope && principal.scopes.includes(need.scope) ? 'ok' : 'forbidden';
}

export interface Actor {
  type: 'user' | 'token' | 'system' | 'anonymous';
  id: string | null;
  label: string | null;
}

export function actorOf(p: Principal): Actor {
  return p.type === 'user'
    ? { type: 'user', id: p.userId, label: p.email }
    : { type: 'token', id: p.tokenId, label: p.tokenName };
}
