/**
 * Schedules in words → a 5-field cron expression (UTC): "every weekday at 9",
 * "every 15 minutes", "every Monday at 8am", "daily at noon", "hourly", "at midnight".
 */
import { parseNumber } from './text';

export interface ParsedSchedule {
  cron: string;
  notes: string[];
  /** The words that said it, so the clause splitter can drop them. */
  match: string;
}

const DAYS: [RegExp, number][] = [
  [/\bsun(day)?s?\b/, 0],
  [/\bmon(day)?s?\b/, 1],
  [/\btue(s|sday)?s?\b/, 2],
  [/\bwed(nesday)?s?\b/, 3],
  [/\bthu(rs?|rsday)?s?\b/, 4],
  [/\bfri(day)?s?\b/, 5],
  [/\bsat(urday)?s?\b/, 6],
];

const UNIT = `(minutes?|mins?|m|hours?|hrs?|h|days?|weeks?)`;
const COUNT = String.raw`(\d+|a|an|one|two|three|four|five|six|ten|twelve|fifteen|twenty|thirty)`;

/** "9", "9am", "9:30", "9.30 pm", "17:00", "noon", "midnight" → [hour, minute]. */
export function parseTime(text: string): { hour: number; minute: number; match: string } | undefined {
  const named = /\b(?:at\s+)?(noon|midday|midnight|lunch ?time)\b/.exec(text);
  if (named) return { hour: named[1] === 'midnight' ? 0 : 12, minute: 0, match: named[0] };
  const m =
    /\b(?:at|@|by|around|from)\s+(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|o'?clock|h)?\b/.exec(text) ??
    /\b(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)/.exec(text) ??
    /\b(\d{1,2}):(\d{2})\b()/.exec(text);
  if (!m) {
    if (/\bin the morning\b|\bmornings?\b/.test(text)) return { hour: 9, minute: 0, match: 'morning' };
    if (/\bin the evening\b|\bevenings?\b|\bend of (the )?day\b/.test(text))
      return { hour: 18, minute: 0, match: 'evening' };
    return undefined;
  }
  let hour = Number(m[1]);
  const minute = m[2] ? Number(m[2]) : 0;
  const suffix = (m[3] ?? '').replace(/\./g, '');
  if (suffix === 'pm' && hour < 12) hour += 12;
  if (suffix === 'am' && hour === 12) hour = 0;
  if (hour > 23 || minute > 59) return undefined;
  return { hour, minute, match: m[0] };
}

function unitOf(word: string): 'minute' | 'hour' | 'day' | 'week' {
  if (/^(m|mins?|minutes?)$/.test(word)) return 'minute';
  if (/^(h|hrs?|hours?)$/.test(word)) return 'hour';
  if (/^days?$/.test(word)) return 'day';
  return 'week';
}

function dayList(text: string): number[] {
  return DAYS.filter(([re]) => re.test(text)).map(([, d]) => d);
}

/** Finds a schedule anywhere in the text, or undefined when the text names none. */
export function parseSchedule(raw: string): ParsedSchedule | undefined {
  const text = raw.toLowerCase();
  const notes: string[] = [];
  const time = parseTime(text);
  const at = (fallbackHour: number) => {
    if (time) return { h: time.hour, m: time.minute };
    notes.push(`No time given: assumed ${String(fallbackHour).padStart(2, '0')}:00 UTC.`);
    return { h: fallbackHour, m: 0 };
  };

  // "every 15 minutes", "every 2 hours", "each 30 mins"
  const interval = new RegExp(String.raw`\b(?:every|each|once every)\s+${COUNT}\s*${UNIT}\b`).exec(text);
  if (interval) {
    const n = parseNumber(interval[1]) ?? 1;
    const unit = unitOf(interval[2]);
    if (unit === 'minute' && n >= 1 && n < 60)
      return { cron: n === 1 ? '* * * * *' : `*/${n} * * * *`, notes, match: interval[0] };
    if (unit === 'hour' && n >= 1 && n < 24)
      return { cron: n === 1 ? '0 * * * *' : `0 */${n} * * *`, notes, match: interval[0] };
    if (unit === 'day' && n >= 1 && n <= 31) {
      const { h, m } = at(9);
      return { cron: n === 1 ? `${m} ${h} * * *` : `${m} ${h} */${n} * *`, notes, match: interval[0] };
    }
    if (unit === 'week') {
      const { h, m } = at(9);
      const days = dayList(text);
      if (!days.length) notes.push('No day given: assumed Monday.');
      return { cron: `${m} ${h} * * ${days.length ? days.join(',') : 1}`, notes, match: interval[0] };
    }
  }
  // "twice a day", "at 9 and 17", "at 9am and 5pm": one cron line with both hours.
  const hours = [...text.matchAll(/\b(?:at|and|&)\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b/g)]
    .map((m) => {
      let h = Number(m[1]);
      if (m[3] === 'pm' && h < 12) h += 12;
      if (m[3] === 'am' && h === 12) h = 0;
      return { h, m: m[2] ? Number(m[2]) : 0 };
    })
    .filter((t) => t.h <= 23 && t.m <= 59);
  const twice = /\btwice (a|per) day\b|\btwice daily\b/.exec(text);
  const distinct = [...new Set(hours.map((t) => t.h))].sort((a, b) => a - b);
  if (
    (twice || /\b(every|each) day\b|\bdaily\b/.test(text)) &&
    distinct.length > 1 &&
    hours.every((t) => t.m === hours[0].m)
  )
    return { cron: `${hours[0].m} ${distinct.join(',')} * * *`, notes, match: twice?.[0] ?? '' };
  if (twice) {
    notes.push('No times given: assumed 09:00 and 17:00 UTC.');
    return { cron: '0 9,17 * * *', notes, match: twice[0] };
  }
  const everyUnit =
    /\b(?:every|each|once an?|once per|per)\s+(minute|hour|day|week|month|morning|evening|night)\b|\b(hourly|daily|nightly|weekly|monthly)\b/.exec(
      text,
    );
  const weekday =
    /\b(?:every|each|on)\s+(?:work ?day|week ?day|business day)s?\b|\bweekdays\b|\bmonday (?:to|through|-) friday\b|\bmon-fri\b/.exec(
      text,
    );
  const weekend = /\b(?:every|each|on)\s+weekends?\b|\bweekends\b/.exec(text);
  const days = dayList(text.replace(/\bmonday (?:to|through|-) friday\b|\bmon-fri\b/, ''));
  const namedDays = days.length && /\b(every|each|on)\b/.test(text) ? days : [];

  if (weekday) {
    const { h, m } = at(9);
    return { cron: `${m} ${h} * * 1-5`, notes, match: weekday[0] };
  }
  if (weekend) {
    const { h, m } = at(9);
    return { cron: `${m} ${h} * * 0,6`, notes, match: weekend[0] };
  }
  if (namedDays.length) {
    const { h, m } = at(9);
    return { cron: `${m} ${h} * * ${namedDays.join(',')}`, notes, match: text.match(DAYS[namedDays[0]][0])?.[0] ?? '' };
  }
  if (everyUnit) {
    const unit = everyUnit[1] ?? everyUnit[2];
    if (unit === 'minute') return { cron: '* * * * *', notes, match: everyUnit[0] };
    if (unit === 'hour' || unit === 'hourly') return { cron: '0 * * * *', notes, match: everyUnit[0] };
    if (unit === 'week' || unit === 'weekly') {
      const { h, m } = at(9);
      notes.push('No day given: assumed Monday.');
      return { cron: `${m} ${h} * * 1`, notes, match: everyUnit[0] };
    }
    if (unit === 'month' || unit === 'monthly') {
      const { h, m } = at(9);
      const dom = /\b(\d{1,2})(?:st|nd|rd|th)\b/.exec(text);
      if (!dom) notes.push('No day of the month given: assumed the 1st.');
      return { cron: `${m} ${h} ${dom ? dom[1] : 1} * *`, notes, match: everyUnit[0] };
    }
    const fallback = unit === 'evening' ? 18 : unit === 'night' || unit === 'nightly' ? 0 : 9;
    const { h, m } = at(fallback);
    return { cron: `${m} ${h} * * *`, notes, match: everyUnit[0] };
  }
  // "at midnight", "at 9am" with "every day" implied only when a time stands alone as the start.
  if (time && /\b(every|each|daily|a day|per day)\b/.test(text)) {
    return { cron: `${time.minute} ${time.hour} * * *`, notes, match: time.match };
  }
  return undefined;
}
