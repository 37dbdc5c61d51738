/** Five-field cron (minute hour day-of-month month day-of-week), evaluated in UTC. */
const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

function fieldMatches(field: string, value: number, [min, max]: [number, number]): boolean {
  return field.split(',').some((part) => {
    const [range, stepText] = part.split('/');
    const step = stepText ? Number(stepText) : 1;
    let lo: number, hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(Number) as [number, number];
    else [lo, hi] = [Number(range), stepText ? max : Number(range)];
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

export function cronMatches(expr: string, at: Date): boolean {
  const [m, h, dom, mon, dow] = expr.trim().split(/\s+/);
  const dayOfWeek = at.getUTCDay();
  const domOk = fieldMatches(dom, at.getUTCDate(), RANGES[2]);
  // Sunday is 0 or 7.
  const dowOk = fieldMatches(dow, dayOfWeek, RANGES[4]) || (dayOfWeek === 0 && fieldMatches(dow, 7, RANGES[4]));
  // Classic cron: when both day fields are restricted, either may match.
  const dayOk = dom !== '*' && dow !== '*' ? domOk || dowOk : domOk && dowOk;
  return (
    fieldMatches(m, at.getUTCMinutes(), RANGES[0]) &&
    fieldMatches(h, at.getUTCHours(), RANGES[1]) &&
    fieldMatches(mon, at.getUTCMonth() + 1, RANGES[3]) &&
    dayOk
  );
}
