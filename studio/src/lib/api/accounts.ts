/**
 * Account mail flows (docs/accounts.md): confirming an address, resetting a password,
 * invitations, and the development outbox, through the one typed client.
 */
import { type Schemas, unwrap } from '../../../../api/client.ts';
import { client, type Fetch, type Role, via } from '../api';

export type Invitation = Schemas['Invitation'];
export type InvitationPreview = Schemas['InvitationPreview'];
export type OutboxMessage = Schemas['OutboxMessage'];

export const accounts = {
  verifyEmail: (token: string) => unwrap(client.POST('/auth/verify-email', { body: { token } })),
  resendVerification: () => unwrap(client.POST('/auth/verify-email/resend')),
  /** Answers the same whether or not the address has an account. */
  forgotPassword: (email: string) => unwrap(client.POST('/auth/password/forgot', { body: { email } })),
  /** Ends every session of the account, this one included. */
  resetPassword: (token: string, password: string) =>
    unwrap(client.POST('/auth/password/reset', { body: { token, password } })),

  inspectInvitation: (token: string) => unwrap(client.POST('/auth/invitation', { body: { token } })),
  acceptInvitation: (body: { token: string; name: string; password: string }) =>
    unwrap(client.POST('/auth/invitation/accept', { body })),
  listInvitations: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/invitations', via(fetchImpl)))).invitations,
  invite: (email: string, role: Role) => unwrap(client.POST('/invitations', { body: { email, role } })),
  revokeInvitation: (id: string) => unwrap(client.DELETE('/invitations/{id}', { params: { path: { id } } })),

  /** Development only: 404 (`route_not_found`) on a production deployment. */
  outbox: async (fetchImpl?: Fetch) => (await unwrap(client.GET('/dev/outbox', via(fetchImpl)))).messages,
};

/** The token a mailed link carries in its fragment (`#token=...`), which never reaches a server. */
export function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? '';
}
