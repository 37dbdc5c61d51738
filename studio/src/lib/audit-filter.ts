/**
 * The Audit Log page's filters live in its URL (shareable, and what the run page links to):
 * `?action=secret.*&actor=ana@example.com&run=run_...&from=2026-12-01T09:00&to=...&limit=25`.
 * Times are the browser's local time, as `<input type="datetime-local">` shows them.
 */
import type { AuditFilter } from './api/governance';

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

export interface AuditForm {
  action: string;
  actor: string;
  run: string;
  from: string;
  to: string;
  limit: number;
}

/** Actions the API writes, and their families (a trailing `*` matches the prefix). */
export const KNOWN_ACTIONS = [
  'auth.*',
  'auth.signup',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.verification_sent',
  'auth.email_verified',
  'auth.password_reset_requested',
  'auth.password_reset',
  'invitation.*',
  'invitation.create',
  'invitation.accept',
  'invitation.revoke',
  'invitation.expired_use',
  'member.*',
  'member.add',
  'member.role_change',
  'member.remove',
  'mfa.*',
  'mfa.enroll_start',
  'mfa.enroll',
  'mfa.disable',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerate',
  'mfa.challenge_failed',
  'mfa.requirement_change',
  'mfa.reset',
  'token.*',
  'token.create',
  'token.revoke',
  'secret.*',
  'secret.create',
  'secret.update',
  'secret.rotate',
  'secret.delete',
  'workflow.*',
  'workflow.import',
  'workflow.publish',
  'workflow.activate',
  'workflow.hook_regenerated',
  'run.*',
  'run.retry',
  'run.recovered',
  'step.attempt',
  'webhook.*',
  'webhook.rejected',
  'webhook.unavailable',
];

export function formFromUrl(url: URL): AuditForm {
  const p = url.searchParams;
  const limit = Number(p.get('limit'));
  return {
    action: p.get('action') ?? '',
    actor: p.get('actor') ?? '',
    run: p.get('run') ?? '',
    from: p.get('from') ?? '',
    to: p.get('to') ?? '',
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : DEFAULT_PAGE_SIZE,
  };
}

export function formToSearch(form: AuditForm): string {
  const q = new URLSearchParams();
  for (const name of ['action', 'actor', 'run', 'from', 'to'] as const) {
    const value = form[name].trim();
    if (value) q.set(name, value);
  }
  if (form.limit !== DEFAULT_PAGE_SIZE) q.set('limit', String(form.limit));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** A local `datetime-local` value as epoch ms; undefined when empty or not a time. */
function localTime(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** The API's filter; `to` includes its whole minute. */
export function formToFilter(form: AuditForm): AuditFilter {
  const to = localTime(form.to);
  return {
    action: form.action.trim() || undefined,
    actor: form.actor.trim() || undefined,
    run: form.run.trim() || undefined,
    since: localTime(form.from),
    before: to === undefined ? undefined : to + 60_000,
    limit: form.limit,
  };
}
