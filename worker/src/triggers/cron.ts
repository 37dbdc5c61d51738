/**
 * Schedule triggers' cron (docs/workflow-file.md#schedules). One library, croner, both
 * validates an expression at import and publish and computes its fire times for the
 * minute cron, so an expression that publishes is one that fires, when it says.
 */
import { Cron } from 'croner';

export const DEFAULT_TIMEZONE = 'UTC';

export interface CronSchedule {
  cron: string;
  /** IANA time zone the expression is read in; UTC when absent. */
  timezone?: string;
}

/**
 * Five fields only (minute hour day-of-month month day-of-week) or a macro: croner would
 * also read six or seven fields as seconds and years, which the minute cron cannot honour.
 * Day-of-month and day-of-week combine with OR when both are restricted, as in Vixie cron.
 */
function compile(s: CronSchedule): Cron {
  return new Cron(s.cron, {
    mode: '5-part',
    timezone: s.timezone ?? DEFAULT_TIMEZONE,
    domAndDow: false,
    // `5/10` (from 5, every 10) was accepted before this library and by most crons: keep it.
    sloppyRanges: true,
  });
}

const clean = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/^Cron\w*: /, '');

/** Why `cron` can never fire (unparseable, out of range, or no such date), or null if it fires. */
export function cronProblem(cron: string, from = new Date()): string | null {
  let job: Cron;
  try {
    job = compile({ cron });
  } catch (e) {
    return `not a 5-field cron expression or macro (${clean(e)}), e.g. "*/15 * * * *", "0 9 * * MON" or "@daily"`;
  }
  return job.nextRun(from) ? null : `"${cron}" never fires: no date matches it`;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The next `n` fire times strictly after `after`. Throws on an invalid expression or zone. */
export function nextFireTimes(s: CronSchedule, after: Date, n: number): Date[] {
  return compile(s).nextRuns(n, after);
}

/** The next fire time strictly after `after` (epoch ms), or null when there is none. */
export function nextFireAfter(s: CronSchedule, after: number): number | null {
  return compile(s).nextRun(new Date(after))?.getTime() ?? null;
}

/**
 * The latest fire time at or before `now`, given that `due` (a fire time <= now) was
 * missed or is now: minutes the cron did not run collapse into this one slot.
 */
export function latestDueSlot(s: CronSchedule, due: number, now: number): number {
  const latest = compile(s)
    .previousRuns(1, new Date(now + 1))[0]
    ?.getTime();
  return latest !== undefined && latest > due ? latest : due;
}

/** `at` as local ISO 8601 time in `timezone` with its offset, e.g. 2027-03-22T09:00:00+01:00. */
export function localIso(at: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  // "GMT+01:00", or plain "GMT" at offset zero.
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : parts.timeZoneName.replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}
