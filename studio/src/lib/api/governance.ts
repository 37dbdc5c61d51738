/**
 * Governance and dashboard calls: audit log, members and roles, run statistics, through the
 * one typed client (api/client.ts); response types come from the server's route schemas.
 */
import type { paths } from '../../../../api/schema';
import { type Schemas, unwrap } from '../../../../api/client.ts';
import { client, type Fetch, type Role, via } from '../api';

export type AuditPage = paths['/audit']['get']['responses'][200]['content']['application/json'];
export type AuditEntry = AuditPage['entries'][number];
export type StatsOverview = Schemas['StatsOverview'];
export type HourBucket = StatsOverview['hours'][number];
export type Member = Schemas['Member'];

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

const member = (id: string) => ({ params: { path: { id } } });

export const governance = {
  listAudit: (filter: AuditFilter, fetchImpl?: Fetch) =>
    unwrap(client.GET('/audit', { params: { query: filter }, ...via(fetchImpl) })),

  statsOverview: (hours = 24, fetchImpl?: Fetch) =>
    unwrap(client.GET('/stats/overview', { params: { query: { hours } }, ...via(fetchImpl) })),

  listMembers: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/members', via(fetchImpl)))).members,
  changeRole: (id: string, role: Role) => unwrap(client.PATCH('/members/{id}', { ...member(id), body: { role } })),
  /** Ends their sessions and revokes the tokens they created. */
  removeMember: (id: string) => unwrap(client.DELETE('/members/{id}', member(id))),
};
