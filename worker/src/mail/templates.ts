/**
 * The account mails, each in plain text and HTML. Everything a user typed (team names,
 * people's names and addresses) is escaped in the HTML; links are ours, built from the
 * configured public URL.
 */
import type { MailMessage } from './message';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** Plain text cannot be escaped, but a line break in a name must not start lines of its own. */
const oneLine = (text: string) => text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();

function page(paragraphs: string[], link: string, button: string, footer: string): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join('');
  return [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1f2937;max-width:560px;margin:0 auto;padding:24px">',
    body,
    `<p style="margin:24px 0"><a href="${escapeHtml(link)}" style="background:#2563eb;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none">${button}</a></p>`,
    `<p style="margin:0 0 16px;font-size:13px;color:#6b7280">Or paste this address into your browser: ${escapeHtml(link)}</p>`,
    `<p style="font-size:13px;color:#6b7280">${footer}</p>`,
    '</body></html>',
  ].join('');
}

export function verifyEmailMail(input: { to: string; link: string; hours: number }): MailMessage {
  return {
    to: input.to,
    template: 'verify_email',
    link: input.link,
    subject: 'Confirm your email address for Automate',
    text: [
      'Confirm your email address for Automate by opening this link:',
      '',
      input.link,
      '',
      `The link works once and for ${input.hours} hours. Until you confirm, you can sign in but not create API tokens.`,
      'If you did not sign up for Automate, ignore this message.',
    ].join('\n'),
    html: page(
      ['Confirm your email address for Automate.'],
      input.link,
      'Confirm my address',
      `The link works once and for ${input.hours} hours. If you did not sign up for Automate, ignore this message.`,
    ),
  };
}

export function resetPasswordMail(input: { to: string; link: string; minutes: number }): MailMessage {
  return {
    to: input.to,
    template: 'reset_password',
    link: input.link,
    subject: 'Reset your Automate password',
    text: [
      'Someone (hopefully you) asked to reset the password of your Automate account.',
      'Choose a new password here:',
      '',
      input.link,
      '',
      `The link works once and for ${input.minutes} minutes. Setting a new password signs you out everywhere.`,
      'If you did not ask for this, ignore this message: your password stays as it is.',
    ].join('\n'),
    html: page(
      ['Someone (hopefully you) asked to reset the password of your Automate account.'],
      input.link,
      'Choose a new password',
      `The link works once and for ${input.minutes} minutes. Setting a new password signs you out everywhere. If you did not ask for this, ignore this message: your password stays as it is.`,
    ),
  };
}

export function invitationMail(input: {
  to: string;
  link: string;
  tenantName: string;
  inviter: string;
  role: string;
  days: number;
}): MailMessage {
  const team = oneLine(input.tenantName);
  const inviter = oneLine(input.inviter);
  return {
    to: input.to,
    template: 'invitation',
    link: input.link,
    subject: `You are invited to join ${team} on Automate`,
    text: [
      `${inviter} invited you to join the team "${team}" on Automate as ${input.role}.`,
      'Accept and choose your password here:',
      '',
      input.link,
      '',
      `The invitation works once and for ${input.days} days.`,
      'If you did not expect it, ignore this message.',
    ].join('\n'),
    html: page(
      [
        `${escapeHtml(inviter)} invited you to join the team <strong>${escapeHtml(team)}</strong> on Automate as <strong>${escapeHtml(input.role)}</strong>.`,
      ],
      input.link,
      'Accept the invitation',
      `The invitation works once and for ${input.days} days. If you did not expect it, ignore this message.`,
    ),
  };
}
