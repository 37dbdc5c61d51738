/**
 * What the studio offers each role. The role order is the server's own
 * (worker/src/auth/principal.ts), and each entry names the least role the API routes
 * behind those controls require; the API still refuses anything else, this only keeps
 * people from being shown buttons that would fail.
 */
import { ROLES } from '../../../worker/src/auth/principal';
import type { Me } from './api';

export const PERMISSIONS = {
  /** Save, publish, activate a version, new webhook URL, dry run, Rule Tester. */
  'workflows:write': 'editor',
  /** Start a run, retry a failed one. */
  'runs:trigger': 'editor',
  /** API tokens, stored secrets, members, audit log. */
  governance: 'admin',
  /** Single sign-on for the team (Admin › Governance › Single sign-on). */
  sso: 'owner',
} as const satisfies Record<string, (typeof ROLES)[number]>;

export type Permission = keyof typeof PERMISSIONS;

export function roleAtLeast(role: string | undefined, least: (typeof ROLES)[number]): boolean {
  const have = ROLES.indexOf(role as (typeof ROLES)[number]);
  return have >= 0 && have >= ROLES.indexOf(least);
}

/** Whether the signed-in user may use this part of the studio. */
export function can(me: Me | null | undefined, permission: Permission): boolean {
  return roleAtLeast(me?.user?.role, PERMISSIONS[permission]);
}
