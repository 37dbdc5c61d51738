/** Time zones as people write them ("Berlin time", "9am EST", "Europe/Paris") → IANA names for schedule triggers. */
import { isTimeZone } from '../../triggers/cron';

const NAMED: [RegExp, string][] = [
  [/\b(utc|gmt|zulu)\b/, 'UTC'],
  [/\b(cet|cest|berlin|german time|central european)\b/, 'Europe/Berlin'],
  [/\b(london|uk time|bst|british time)\b/, 'Europe/London'],
  [/\b(paris|french time)\b/, 'Europe/Paris'],
  [/\b(amsterdam|dutch time)\b/, 'Europe/Amsterdam'],
  [/\b(madrid|spanish time)\b/, 'Europe/Madrid'],
  [/\b(rome|italian time)\b/, 'Europe/Rome'],
  [/\b(vienna|austrian time)\b/, 'Europe/Vienna'],
  [/\b(zurich|swiss time)\b/, 'Europe/Zurich'],
  [/\b(est|edt|eastern|new york|nyc|et)\b/, 'America/New_York'],
  [/\b(cst|cdt|central time|chicago)\b/, 'America/Chicago'],
  [/\b(mst|mdt|mountain time|denver)\b/, 'America/Denver'],
  [/\b(pst|pdt|pacific|los angeles|san francisco|california time|pt)\b/, 'America/Los_Angeles'],
  [/\b(tokyo|jst|japan time)\b/, 'Asia/Tokyo'],
  [/\b(ist|india time|mumbai|bangalore|delhi)\b/, 'Asia/Kolkata'],
  [/\b(singapore|sgt)\b/, 'Asia/Singapore'],
  [/\b(sydney|aest|aedt)\b/, 'Australia/Sydney'],
];

/** The zone the prompt names, or undefined. An IANA name typed as such wins. */
export function parseTimeZone(prompt: string): string | undefined {
  const iana = /\b([A-Z][a-z]+(?:\/[A-Z][A-Za-z_]+)+)\b/.exec(prompt)?.[1];
  if (iana && isTimeZone(iana)) return iana;
  const lower = prompt.toLowerCase();
  for (const [re, zone] of NAMED) {
    const m = re.exec(lower);
    if (!m) continue;
    // Abbreviations are zones wherever they stand; a place only right after a time
    // ("9am Berlin", "at 9 in London") or before "time" ("Pacific time").
    const abbreviation =
      /^(utc|gmt|zulu|cet|cest|bst|est|edt|cst|cdt|mst|mdt|pst|pdt|jst|ist|sgt|aest|aedt|et|pt)$/.test(m[0]);
    const before = lower.slice(Math.max(0, m.index - 16), m.index);
    const after = lower.slice(m.index + m[0].length, m.index + m[0].length + 12);
    const afterTime = /(\d(\s*(am|pm))?|noon|midnight|o'clock)\s*(\(|in |,)?\s*$/.test(before);
    if (
      abbreviation
        ? afterTime || /^\s*(time|\))/.test(after) || /\b(in|timezone|time zone)\s*$/.test(before)
        : afterTime || /^\s*(time|timezone|\))/.test(after)
    )
      return zone;
  }
  return undefined;
}
