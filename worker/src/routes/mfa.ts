/**
 * Two-factor authentication (TOTP): every user enrols, confirms, regenerates recovery codes
 * and disables for themselves; the sign-in's second step; an owner's reset of a member's.
 * Secrets and recovery codes appear in exactly two answers (enrolment start, and
 * confirmation / regeneration), once; never in logs or the audit log.
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../context';
import { completeChallenge } from '../auth/mfa/challenges';
import {
  confirmEnrollment,
  disableMfa,
  type MfaUser,
  mfaStatus,
  type Proof,
  regenerateRecoveryCodes,
  resetMemberMfa,
  startEnrollment,
} from '../auth/mfa/mfa-store';
import { actorOf, type Principal } from '../auth/principal';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, ErrorBody, jsonBody, jsonResponse } from '../http/router';
import { requireKeyring } from '../secrets/keyring';
import { Me, refuseForeignOrigin, startSession } from './auth';

const self = { role: 'viewer' } as const;
const enrolling = { duringMfaEnrollment: true } as const;

const Code = z
  .string()
  .regex(/^\d{6}$/, '6 digits')
  .openapi({ description: 'The current 6-digit code of the authenticator app', example: '123456' });
const RecoveryCode = z
  .string()
  .min(1)
  .max(64)
  .openapi({ description: 'One of the recovery codes shown at enrolment (each works once)' });

/** A code or a recovery code, exactly one. */
const ProofFields = { code: Code.optional(), recoveryCode: RecoveryCode.optional() };
const exactlyOne = (v: { code?: string; recoveryCode?: string }) =>
  (v.code === undefined) !== (v.recoveryCode === undefined);
const EXACTLY_ONE = { message: 'send either code or recoveryCode', path: ['code'] };

const MfaStatus = z
  .object({
    enabled: z.boolean(),
    enabledAt: z.number().nullable(),
    enrollmentPending: z.boolean().openapi({ description: 'Enrolment started and not confirmed yet' }),
    recoveryCodesLeft: z.number(),
    requiredByTenant: z.boolean(),
  })
  .openapi('MfaStatus');
const Enrollment = z
  .object({
    secret: z.string().openapi({ description: 'Base32 TOTP secret: shown this once, for typing into the app' }),
    otpauthUri: z.string().openapi({ description: '`otpauth://totp/...` for the QR code' }),
    issuer: z.string(),
    account: z.string(),
  })
  .openapi('MfaEnrollment');
const RecoveryCodes = z
  .object({
    recoveryCodes: z
      .array(z.string())
      .openapi({ description: 'Ten single-use codes: shown this once, stored only hashed' }),
  })
  .openapi('MfaRecoveryCodes');
const CodeBody = z.strictObject({ code: Code }).openapi('MfaCodeRequest');
const DisableBody = z.strictObject(ProofFields).refine(exactlyOne, EXACTLY_ONE).openapi('MfaDisableRequest');
const VerifyBody = z
  .strictObject({ challenge: z.string().min(1).max(200), ...ProofFields })
  .refine(exactlyOne, EXACTLY_ONE)
  .openapi('MfaVerifyRequest');

function who(c: Context<AppEnv>): MfaUser {
  const p = c.get('principal') as Extract<Principal, { type: 'user' }>;
  return { tenantId: p.tenantId, userId: p.userId, email: p.email };
}

function meta(c: Context<AppEnv>) {
  return { actor: actorOf(c.get('principal')!), ip: clientIp(c), requestId: c.get('requestId') };
}

const proofOf = (v: { code?: string; recoveryCode?: string }): Proof =>
  v.recoveryCode !== undefined ? { recoveryCode: v.recoveryCode } : { code: v.code ?? '' };

export const mfaRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'get',
      path: '/auth/mfa',
      permission: self,
      access: enrolling,
      summary: 'My two-factor authentication',
      responses: { 200: jsonResponse(MfaStatus) },
    }),
    async (c) => {
      const u = who(c);
      return c.json(await mfaStatus(c.get('db'), u.tenantId, u.userId), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/mfa/enroll',
      permission: self,
      access: enrolling,
      summary: 'Start enrolling an authenticator app',
      description:
        'A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s) and its `otpauth://` URI, shown this once. Starting again replaces an unconfirmed one. Confirm with a code.',
      responses: { 201: jsonResponse(Enrollment), 409: jsonResponse(ErrorBody, 'Already on') },
    }),
    async (c) => {
      const ring = await requireKeyring(c.env);
      return c.json(await startEnrollment(c.get('db'), ring, who(c), meta(c)), 201);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/mfa/enroll/confirm',
      permission: self,
      access: enrolling,
      summary: 'Confirm enrolment with a current code',
      description: 'Turns two-factor on and answers the ten recovery codes, shown this once.',
      request: jsonBody(CodeBody),
      responses: { 200: jsonResponse(RecoveryCodes) },
    }),
    async (c) => {
      const ring = await requireKeyring(c.env);
      const { recoveryCodes } = await confirmEnrollment(c.get('db'), ring, who(c), c.req.valid('json').code, meta(c));
      return c.json({ recoveryCodes }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/mfa/recovery-codes',
      permission: self,
      summary: 'New recovery codes (the old ones stop working)',
      request: jsonBody(CodeBody),
      responses: { 200: jsonResponse(RecoveryCodes) },
    }),
    async (c) => {
      const ring = await requireKeyring(c.env);
      return c.json(await regenerateRecoveryCodes(c.get('db'), ring, who(c), c.req.valid('json').code, meta(c)), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/mfa/disable',
      permission: self,
      summary: 'Turn two-factor off (needs a current code or a recovery code)',
      description:
        "Refused (409 `mfa_required_by_tenant`) while the team requires it: an owner's reset is the way then.",
      request: jsonBody(DisableBody),
      responses: { 200: jsonResponse(MfaStatus) },
    }),
    async (c) => {
      const ring = await requireKeyring(c.env);
      const u = who(c);
      await disableMfa(c.get('db'), ring, u, proofOf(c.req.valid('json')), meta(c));
      return c.json(await mfaStatus(c.get('db'), u.tenantId, u.userId), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/mfa/verify',
      permission: 'public',
      summary: 'Second step of sign-in: the challenge from login and a code',
      description:
        'A current authenticator code or an unused recovery code. A challenge lasts 5 minutes, signs in once and ends after 5 wrong codes; wrong codes also count per user (429).',
      request: jsonBody(VerifyBody),
      responses: {
        200: jsonResponse(Me, 'Signed in; session cookie set'),
        429: { description: 'Too many wrong codes' },
      },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const ring = await requireKeyring(c.env);
      const body = c.req.valid('json');
      const user = await completeChallenge(c.get('db'), ring, body.challenge, proofOf(body), {
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json(await startSession(c, user, { mfaEnabled: true, mfa: user.method }), 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'delete',
      path: '/members/{id}/mfa',
      permission: { role: 'owner' },
      summary: "Reset a member's two-factor authentication (owners; audited)",
      description:
        'For a lost device: removes their authenticator and recovery codes. They sign in with their password and, if the team requires it, enrol again.',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: {
        200: jsonResponse(z.object({ id: z.string(), mfaEnabled: z.literal(false) })),
        409: jsonResponse(ErrorBody, 'The member has no two-factor authentication'),
      },
    }),
    async (c) => {
      const p = c.get('principal')!;
      return c.json(await resetMemberMfa(c.get('db'), p.tenantId, c.req.valid('param').id, meta(c)), 200);
    },
  );
