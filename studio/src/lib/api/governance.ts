/**
 * Governance and dashboard calls: audit log, members and roles, run statistics. Kept apart
 * from api.ts's own functions so the generated client can take them over one by one.
 */
import { type Fetch, request, type Role } from '../api';

export interface AuditEntry {
  id: string;
  at: number;
  actorType: 'user' | 'token' | 'system' | 'anonymous' | (string & {});
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  runId: string | null;
  /** As written: secret values were replaced by `********` before it was stored. */
  context: Record<string, unknown> | null;
  ip: string | null;
  requestId: string | null;
}

export interface AuditFilter {
  /** Exact action, or a prefix ending in `*`. */
  action?: string;
  /** User email, token name, or actor id. */
  actor?: string;
  run?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  before?: number;
  cursor?: string;
  limit?: number;
}

export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

export interface HourBucket {
  hour: number;
  total: number;
  succeeded: number;
  failed: number;
  failureRate: number | null;
}

export interface StatsOverview {
  since: number;
  until: number;
  totals: { runs: number; succeeded: number; failed: number; failureRate: number | null };
  hours: HourBucket[];
  slowestSteps: { workflow: string; step: string; count: number; avgMs: number; p95Ms: number; maxMs: number }[];
  latestFailures: {
    id: string;
    workflow: string;
    version: number;
    error: { message?: string; stepId?: string } | null;
    createdAt: number;
    finishedAt: number | null;
  }[];
}

export interface Member {
  id: string;
  email: string;
  role: Role;
  createdAt: number;
}

function search(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [name, value] of Object.entries(params))
    if (value !== undefined && value !== '') q.set(name, String(value));
  const text = q.toString();
  return text ? `?${text}` : '';
}

const enc = encodeURIComponent;

export const governance = {
  listAudit: (filter: AuditFilter, fetchImpl?: Fetch) =>
    request<AuditPage>('GET', `/audit${search({ ...filter })}`, undefined, fetchImpl),

  statsOverview: (hours = 24, fetchImpl?: Fetch) =>
    request<StatsOverview>('GET', `/stats/overview${search({ hours })}`, undefined, fetchImpl),

  listMembers: async (fetchImpl?: Fetch) =>
    (await request<{ members: Member[] }>('GET', '/members', undefined, fetchImpl)).members,
  /** The member signs in with this password and should change it. */
  addMember: (input: { email: string; password: string; role: Exclude<Role, 'owner'> }) =>
    request<Member>('POST', '/members', input),
  changeRole: (id: string, role: Role) => request<Member>('PATCH', `/members/${enc(id)}`, { role }),
  /** Ends their sessions and revokes the tokens they created. */
  removeMember: (id: string) =>
    request<{ id: string; removed: true; tokensRevoked: number }>('DELETE', `/members/${enc(id)}`),
};
