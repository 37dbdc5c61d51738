/** One outgoing message, as every template builds it and every transport sends it. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Which template made it (`verify_email`, `reset_password`, `invitation`): logged instead of the content. */
  template: string;
  /**
   * The single-use link inside, kept apart so that the development log can print it. Never
   * logged by a production transport, never put in an error or an audit entry.
   */
  link: string;
}

/** A way to hand a message over: the local outbox, Cloudflare's send_email binding or an HTTP mail API. */
export interface MailTransport {
  name: 'outbox' | 'cloudflare' | 'http';
  send(message: MailMessage, from: string): Promise<void>;
}

/** A transport's refusal, in words safe to log: never the message's text, HTML or link. */
export class MailSendError extends Error {
  override name = 'MailSendError';
}
