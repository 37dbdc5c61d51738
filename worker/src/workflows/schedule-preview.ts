/**
 * "When will this fire?": the next fire times of a workflow file's schedule trigger,
 * shown by GET /api/workflows/:key (active version and draft) and by the dry run.
 */
import { z } from '@hono/zod-openapi';
import { DEFAULT_TIMEZONE, localIso, nextFireTimes } from '../triggers/cron';

export const SchedulePreview = z
  .object({
    cron: z.string(),
    timezone: z.string().openapi({ description: 'IANA zone the expression is read in (UTC when the file names none)' }),
    next: z
      .array(
        z.object({
          at: z.string().openapi({ description: 'ISO 8601 in UTC', example: '2027-03-29T07:00:00.000Z' }),
          local: z.string().openapi({
            description: 'the same instant in `timezone`, with its offset',
            example: '2027-03-29T09:00:00+02:00',
          }),
        }),
      )
      .openapi({ description: 'The next 3 fire times' }),
    error: z
      .string()
      .optional()
      .openapi({ description: 'Why no time can be computed (a draft saved before the expression was checked)' }),
  })
  .openapi('SchedulePreview');
export type SchedulePreview = z.infer<typeof SchedulePreview>;

const PREVIEW_COUNT = 3;

/** The preview for a (parsed) workflow file, or null when its trigger is not a schedule. */
export function schedulePreview(file: unknown, now = new Date()): SchedulePreview | null {
  const trigger = (file as { trigger?: { type?: unknown; cron?: unknown; timezone?: unknown } } | null)?.trigger;
  if (trigger?.type !== 'schedule' || typeof trigger.cron !== 'string') return null;
  const timezone = typeof trigger.timezone === 'string' ? trigger.timezone : DEFAULT_TIMEZONE;
  try {
    const times = nextFireTimes({ cron: trigger.cron, timezone }, now, PREVIEW_COUNT);
    return {
      cron: trigger.cron,
      timezone,
      next: times.map((at) => ({ at: at.toISOString(), local: localIso(at, timezone) })),
    };
  } catch (e) {
    return { cron: trigger.cron, timezone, next: [], error: e instanceof Error ? e.message : String(e) };
  }
}
