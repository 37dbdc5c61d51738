/** "Forgot password" and setting a new one from the mailed link. */
import { z } from '@hono/zod-openapi';
import { AppError } from '../errors';
import { takeMailSend } from '../accounts/mail-throttle';
import { completePasswordReset, requestPasswordReset } from '../accounts/password-reset';
import { LINK_TTL_MS } from '../accounts/account-links';
import { studioLink } from '../mail/mailer';
import { clientIp } from '../http/request-context';
import { apiRoute, createRouter, jsonBody, jsonResponse } from '../http/router';
import { Password, refuseForeignOrigin } from './auth';
import { LinkToken } from './email-verification';

const ForgotBody = z.strictObject({ email: z.email().max(254) }).openapi('ForgotPasswordRequest');
const ResetBody = z.strictObject({ token: LinkToken, password: Password }).openapi('ResetPasswordRequest');

const SAME_ANSWER = `If an account uses that address, a link to choose a new password is on its way. It works once, for ${
  LINK_TTL_MS.reset_password / 60_000
} minutes.`;

export const passwordResetRoutes = createRouter()
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/password/forgot',
      permission: 'public',
      summary: 'Mail a password reset link',
      description:
        'The answer is the same whether or not an account uses the address: the lookup and the mail happen after it. ' +
        'Rate limited per address and per client IP (429 with Retry-After, for unknown addresses too).',
      request: jsonBody(ForgotBody),
      responses: {
        202: jsonResponse(z.object({ ok: z.literal(true), message: z.string() })),
        429: { description: 'Too many requests for this address or from this client' },
      },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const { email } = c.req.valid('json');
      const ip = clientIp(c);
      const wait = await takeMailSend(c.get('db'), email, ip);
      if (wait > 0)
        throw new AppError('rate_limited', `Too many reset requests; try again in ${wait} s`, {
          retryAfterSeconds: wait,
        });
      c.executionCtx.waitUntil(
        requestPasswordReset(
          c.env,
          c.get('db'),
          { email, linkFor: (token) => studioLink(c, 'reset', token) },
          { ip, requestId: c.get('requestId') },
        ).catch((err) =>
          console.error(
            JSON.stringify({
              level: 'error',
              event: 'reset.failed',
              requestId: c.get('requestId'),
              message: String(err),
            }),
          ),
        ),
      );
      return c.json({ ok: true as const, message: SAME_ANSWER }, 202);
    },
  )
  .openapi(
    apiRoute({
      method: 'post',
      path: '/auth/password/reset',
      permission: 'public',
      summary: 'Choose a new password with the token from the mailed link',
      description:
        'Ends every session of the account (this browser signs in again on the login page). A used, expired or unknown token is 400 `invalid_link`.',
      request: jsonBody(ResetBody),
      responses: { 200: jsonResponse(z.object({ ok: z.literal(true), email: z.string() })) },
    }),
    async (c) => {
      refuseForeignOrigin(c);
      const { token, password } = c.req.valid('json');
      const { email } = await completePasswordReset(c.get('db'), token, password, {
        ip: clientIp(c),
        requestId: c.get('requestId'),
      });
      return c.json({ ok: true as const, email }, 200);
    },
  );
