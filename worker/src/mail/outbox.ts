/**
 * The local outbox: in development and tests every message is stored in D1 instead of
 * being sent, listed at GET /api/dev/outbox and /studio/dev/outbox, and announced with one
 * line in the `wrangler dev` log. Refused outside those environments (mailer.ts).
 */
import { desc, eq, notInArray } from 'drizzle-orm';
import type { Db } from '../db/client';
import { mailOutbox } from '../db/schema';
import { newId } from '../lib/crypto';
import type { MailMessage, MailTransport } from './message';

/** The outbox keeps this many messages; older ones are dropped as new ones arrive. */
const KEEP = 200;

export function outboxTransport(db: Db, opts: { logLine: boolean }): MailTransport {
  return {
    name: 'outbox',
    async send(message: MailMessage) {
      const createdAt = Date.now();
      await db.batch([
        db.insert(mailOutbox).values({
          id: newId('mail'),
          to: message.to,
          subject: message.subject,
          template: message.template,
          text: message.text,
          html: message.html,
          createdAt,
        }),
        // Keeps a long-running `npm run dev` from growing the table for ever.
        db
          .delete(mailOutbox)
          .where(
            notInArray(
              mailOutbox.id,
              db
                .select({ id: mailOutbox.id })
                .from(mailOutbox)
                .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
                .limit(KEEP),
            ),
          ),
      ]);
      // Development only: the one place a link may be printed (docs/accounts.md).
      if (opts.logLine) console.log(`[mail] to=${message.to} subject="${message.subject}" link=${message.link}`);
    },
  };
}

export async function listOutbox(db: Db, to: string | undefined, limit: number) {
  const q = db
    .select({
      id: mailOutbox.id,
      to: mailOutbox.to,
      subject: mailOutbox.subject,
      template: mailOutbox.template,
      text: mailOutbox.text,
      html: mailOutbox.html,
      createdAt: mailOutbox.createdAt,
    })
    .from(mailOutbox);
  return (to ? q.where(eq(mailOutbox.to, to.toLowerCase())) : q)
    .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
    .limit(limit);
}
