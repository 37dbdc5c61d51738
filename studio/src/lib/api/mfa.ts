/**
 * Two-factor authentication calls (docs/accounts.md): the signed-in user's own enrolment,
 * recovery codes and disabling, the sign-in's second step, the team requirement and an
 * owner's reset of a member's. Secrets and recovery codes come back once; pages keep them
 * only until the user dismisses them.
 */
import { type Schemas, unwrap } from '../../../../api/client.ts';
import { client, type Fetch, via } from '../api';

export type MfaStatus = Schemas['MfaStatus'];
export type MfaEnrollment = Schemas['MfaEnrollment'];
export type MfaChallenge = Schemas['MfaChallenge'];
export type TenantSettings = Schemas['TenantSettings'];
/** A current authenticator code, or one of the recovery codes. */
export type Proof = { code: string } | { recoveryCode: string };

export const mfa = {
  status: (fetchImpl?: Fetch) => unwrap(client.GET('/auth/mfa', via(fetchImpl))),
  /** A new secret and its otpauth:// URI, shown this once. */
  startEnrollment: () => unwrap(client.POST('/auth/mfa/enroll')),
  /** Turns it on; the answer holds the ten recovery codes, shown this once. */
  confirmEnrollment: (code: string) => unwrap(client.POST('/auth/mfa/enroll/confirm', { body: { code } })),
  regenerateRecoveryCodes: (code: string) => unwrap(client.POST('/auth/mfa/recovery-codes', { body: { code } })),
  disable: (proof: Proof) => unwrap(client.POST('/auth/mfa/disable', { body: proof })),
  /** Second step of sign-in: the challenge from the password step and a proof. */
  verify: (challenge: string, proof: Proof) =>
    unwrap(client.POST('/auth/mfa/verify', { body: { challenge, ...proof } })),

  settings: (fetchImpl?: Fetch) => unwrap(client.GET('/settings', via(fetchImpl))),
  /** Owners only; needs two-factor on the owner's own account first. */
  setRequired: (mfaRequired: boolean) => unwrap(client.PATCH('/settings', { body: { mfaRequired } })),
  /** Owners: removes a member's authenticator and recovery codes (a lost device). */
  resetMember: (id: string) => unwrap(client.DELETE('/members/{id}/mfa', { params: { path: { id } } })),
};
