/** Confirming an email address, and asking for the link again. */
import { z } from '@hono/zod-openapi';
import { AppError } from '../errors';
import { confirmEmail, isEmailVerified, sendVerification } from '../accounts/email-verification';
import { takeMailSend } from '../accounts/mail-throttle';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { refuseForeignOrigin } from './auth';

/** A link token as mailed: base64url of 32 bytes. Anything else is refused unseen. */
export const LinkToken = z
  .string()
  .min(20)
  .max(200)
  .regex(/^[A-Za-z0-9_-]+$/, 'not a link token');

const VerifyBody = z.strictObject({ token: LinkToken }).openapi('VerifyEmailRequest');

export const emailVerificationRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/verify-email',
      permission: 'public',
      summary: 'Confirm an email address with the token from the mailed link',
      description: 'Works in any browser, signed in or not. A used, expired or unknown token is 400 `invalid_link`.',
      request: jsonBody(VerifyBody),
      responses: { 200: jsonResponse(z.object({ verified: z.literal(true), email: z.string() })) },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const { email } = await confirmEmail(c.get('db'), c.req.valid('json').token, {
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json({ verified: true as const, email }, 200);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/verify-email/resend',
      permission: { role: 'viewer' },
      // The banner's button stays usable on the enrolment page of a team that requires MFA.
      access: { duringMfaEnrollment: true },
      summary: 'Mail the verification link again',
      description: 'Earlier links stop working. Rate limited per address and per client IP (429 with Retry-After).',
      responses: {
        202: jsonResponse(z.object({ sent: z.boolean(), alreadyVerified: z.boolean() })),
        429: { description: 'Too many mails asked for' },
      },
    }),
    async (c) => {
      const p = c.get('principal');
      if (p?.type !== 'user') throw new AppError('forbidden', 'Only a signed-in user has an address to confirm');
      const db = c.get('db');
      if (await isEmailVerified(db, p.tenantId, p.userId)) return c.json({ sent: false, alreadyVerified: true }, 202);
      const ip = clientIp(c);
      const wait = await takeMailSend(db, p.email, ip);
      if (wait > 0)
        throw new AppError('rate_limited', `Too many mails asked for; try again in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      await sendVerification(c, { tenantId: p.tenantId, userId: p.userId, email: p.email }, ip);
      return c.json({ sent: true, alreadyVerified: false }, 202);
    },
  );
