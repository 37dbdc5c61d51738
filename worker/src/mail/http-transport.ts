/**
 * An HTTP mail API in the style of Resend: `POST <base>/emails` with `Authorization: Bearer
 * <key>` and `{from, to: [address], subject, text, html}`, any 2xx meaning accepted. The key
 * is a Worker secret whose NAME is configured (MAIL_HTTP_KEY_SECRET), so the value never
 * sits in wrangler.toml. Postmark, SendGrid and others offer Resend-compatible endpoints or
 * can be put behind one; see docs/accounts.md.
 */
import type { MailMessage, MailTransport } from './message';
import { MailSendError } from './message';

const TIMEOUT_MS = 10_000;

export function httpTransport(baseUrl: string, apiKey: string): MailTransport {
  const url = `${baseUrl.replace(/\/+$/, '')}/emails`;
  return {
    name: 'http',
    async send(message: MailMessage, from: string) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            from,
            to: [message.to],
            subject: message.subject,
            text: message.text,
            html: message.html,
          }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        throw new MailSendError(`mail API unreachable: ${(err as Error)?.name ?? 'error'}`);
      }
      if (res.ok) {
        await res.body?.cancel();
        return;
      }
      // Only the status and the provider's error name: its message may quote what we sent.
      let name = '';
      try {
        const body = (await res.json()) as { name?: unknown };
        if (typeof body?.name === 'string') name = ` (${body.name.slice(0, 60)})`;
      } catch {
        // not JSON
      }
      throw new MailSendError(`mail API answered ${res.status}${name}`);
    },
  };
}
