/**
 * Cloudflare Email Service: the Worker's `send_email` binding (wrangler.toml `[[send_email]]
 * name = "MAIL"`), called with the structured form `send({from, to, subject, text, html})`.
 * The sender's domain must be onboarded to Email Service (docs/accounts.md).
 */
import type { MailMessage, MailTransport } from './message';
import { MailSendError } from './message';

export function cloudflareTransport(binding: SendEmail): MailTransport {
  return {
    name: 'cloudflare',
    async send(message: MailMessage, from: string) {
      try {
        await binding.send({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
      } catch (err) {
        // The binding's errors name addresses and policies, not the content; keep only the first line.
        throw new MailSendError(
          `send_email refused the message: ${String((err as Error)?.message ?? err)
            .split('\n')[0]
            .slice(0, 200)}`,
        );
      }
    },
  };
}
