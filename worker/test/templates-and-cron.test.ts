import { describe, expect, it } from 'vitest';
import { cronProblem, isTimeZone, latestDueSlot, localIso, nextFireTimes } from '../src/triggers/cron';
import { render } from '../src/run/templates';
import { retryDelayMs } from '../src/run/backoff';

describe('templates', () => {
  const scope = {
    trigger: { body: { total: 1500, items: [{ sku: 'A' }], customer: { id: 'C-1' } } },
    vars: { url: 'https://x' },
    steps: { erp: { output: { order_id: 'ERP-9' } } },
  };
  it('keeps the type of a whole-string template', () => {
    expect(render({ items: '{{ trigger.body.items }}', total: '{{trigger.body.total}}' }, scope)).toEqual({
      items: [{ sku: 'A' }],
      total: 1500,
    });
  });
  it('interpolates inside longer strings, objects as JSON, missing as empty', () => {
    expect(render('Order {{ steps.erp.output.order_id }} for {{ trigger.body.total }} {{ nope.x }}!', scope)).toBe(
      'Order ERP-9 for 1500 !',
    );
    expect(render('{{ trigger.body.items[0] }}', scope)).toEqual({ sku: 'A' });
    expect(render('x {{ trigger.body.items[0] }}', scope)).toBe('x {"sku":"A"}');
  });
  it('renders a missing whole-string path as null', () => {
    expect(render({ a: '{{ trigger.body.missing }}' }, scope)).toEqual({ a: null });
  });
});

describe('cron', () => {
  const iso = (s: { cron: string; timezone?: string }, after: string, n = 3) =>
    nextFireTimes(s, new Date(after), n).map((d) => d.toISOString());

  it('fires on steps, ranges, lists and day numbers the classic way', () => {
    expect(iso({ cron: '*/15 * * * *' }, '2026-11-26T12:30:00Z', 2)).toEqual([
      '2026-11-26T12:45:00.000Z',
      '2026-11-26T13:00:00.000Z',
    ]);
    // 2026-11-26 is a Thursday: weekdays 9 to 17, then on to Friday.
    expect(iso({ cron: '0 9-17 * * 1-5' }, '2026-11-26T16:30:00Z', 2)).toEqual([
      '2026-11-26T17:00:00.000Z',
      '2026-11-27T09:00:00.000Z',
    ]);
    expect(iso({ cron: '5/20 * * * *' }, '2026-11-26T12:00:00Z', 3)).toEqual([
      '2026-11-26T12:05:00.000Z',
      '2026-11-26T12:25:00.000Z',
      '2026-11-26T12:45:00.000Z',
    ]);
    expect(iso({ cron: '0 0 * * 7' }, '2026-11-26T00:00:00Z', 1)).toEqual(['2026-11-29T00:00:00.000Z']); // 7 is Sunday too
    expect(iso({ cron: '0 0 1,15 * *' }, '2026-11-02T00:00:00Z', 2)).toEqual([
      '2026-11-15T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
    // Both day fields restricted: either may match (the 1st, or any Thursday).
    expect(iso({ cron: '0 0 1 * 4' }, '2026-11-25T12:00:00Z', 2)).toEqual([
      '2026-11-26T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
  });

  it('reads names and macros', () => {
    expect(iso({ cron: '0 9 * * MON' }, '2026-11-26T00:00:00Z', 2)).toEqual([
      '2026-11-30T09:00:00.000Z',
      '2026-12-07T09:00:00.000Z',
    ]);
    expect(iso({ cron: '0 0 1 JAN *' }, '2026-11-26T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(iso({ cron: '@hourly' }, '2026-11-26T12:30:00Z', 1)).toEqual(['2026-11-26T13:00:00.000Z']);
    expect(iso({ cron: '@daily' }, '2026-11-26T12:30:00Z', 1)).toEqual(['2026-11-27T00:00:00.000Z']);
    expect(iso({ cron: '@weekly' }, '2026-11-26T12:30:00Z', 1)).toEqual(['2026-11-29T00:00:00.000Z']);
    expect(iso({ cron: '@monthly' }, '2026-11-26T12:30:00Z', 1)).toEqual(['2026-12-01T00:00:00.000Z']);
    expect(iso({ cron: '@yearly' }, '2026-11-26T12:30:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    for (const ok of ['0 9 * * MON', '@hourly', '@daily', '*/5 * * * *', '0 0 L * *', '0 0 29 2 *'])
      expect(cronProblem(ok), ok).toBeNull();
  });

  it('refuses what can never fire, and seconds or years fields', () => {
    expect(cronProblem('*/0 * * * *')).toMatch(/stepping: 0/);
    expect(cronProblem('75 * * * *')).toMatch(/minute: 75/);
    expect(cronProblem('0 25 * * *')).toMatch(/hour: 25/);
    expect(cronProblem('5-1 * * * *')).toMatch(/larger than/);
    expect(cronProblem('0 0 31 2 *')).toMatch(/never fires/);
    expect(cronProblem('0 0 31 4,6,9,11 *')).toMatch(/never fires/);
    expect(cronProblem('0 0 * * * *')).toMatch(/5 parts/);
    expect(cronProblem('@reboot')).not.toBeNull();
    expect(cronProblem('every minute')).not.toBeNull();
  });

  it('keeps 9 am in Berlin across both DST changes of 2027', () => {
    const berlin = { cron: '0 9 * * MON', timezone: 'Europe/Berlin' };
    // Clocks go forward on Sunday 2027-03-28: 08:00Z (CET) before, 07:00Z (CEST) after.
    expect(iso(berlin, '2027-03-20T00:00:00Z')).toEqual([
      '2027-03-22T08:00:00.000Z',
      '2027-03-29T07:00:00.000Z',
      '2027-04-05T07:00:00.000Z',
    ]);
    // And back on Sunday 2027-10-31.
    expect(iso(berlin, '2027-10-20T00:00:00Z')).toEqual([
      '2027-10-25T07:00:00.000Z',
      '2027-11-01T08:00:00.000Z',
      '2027-11-08T08:00:00.000Z',
    ]);
    expect(localIso(new Date('2027-03-29T07:00:00Z'), 'Europe/Berlin')).toBe('2027-03-29T09:00:00+02:00');
    expect(localIso(new Date('2027-11-01T08:00:00Z'), 'Europe/Berlin')).toBe('2027-11-01T09:00:00+01:00');
    expect(localIso(new Date('2027-11-01T08:00:00Z'), 'UTC')).toBe('2027-11-01T08:00:00+00:00');
  });

  it('fires a fixed time inside the spring-forward gap once, after the gap; skips it for intervals', () => {
    // 02:30 does not exist in Berlin on 2027-03-28 (02:00 CET jumps to 03:00 CEST = 01:00Z).
    expect(iso({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, '2027-03-27T12:00:00Z', 2)).toEqual([
      '2027-03-28T01:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
    expect(iso({ cron: '*/30 2 * * *', timezone: 'Europe/Berlin' }, '2027-03-27T12:00:00Z', 2)).toEqual([
      '2027-03-29T00:00:00.000Z',
      '2027-03-29T00:30:00.000Z',
    ]);
    // 02:30 happens twice on 2027-10-31: a fixed time fires at the first one only.
    expect(iso({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, '2027-10-30T12:00:00Z', 2)).toEqual([
      '2027-10-31T00:30:00.000Z',
      '2027-11-01T01:30:00.000Z',
    ]);
    expect(iso({ cron: '0 0 * * 5L' }, '2026-11-01T00:00:00Z', 1)).toEqual(['2026-11-27T00:00:00.000Z']);
  });

  it('collapses missed minutes into the latest due slot', () => {
    const every5 = { cron: '*/5 * * * *' };
    const due = Date.parse('2026-11-26T12:35:00Z');
    expect(new Date(latestDueSlot(every5, due, Date.parse('2026-11-26T12:51:30Z'))).toISOString()).toBe(
      '2026-11-26T12:50:00.000Z',
    );
    expect(latestDueSlot(every5, due, due)).toBe(due);
    expect(latestDueSlot(every5, due, due + 60_000)).toBe(due);
  });

  it('knows IANA zones from typos', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berlinn')).toBe(false);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('backoff', () => {
  const none = () => 0;
  it('grows constant, linear or exponential, capped, honouring Retry-After', () => {
    expect(retryDelayMs({ maxAttempts: 5, backoff: 'constant', initialDelayMs: 1000 }, 3, undefined, none)).toBe(1000);
    expect(retryDelayMs({ maxAttempts: 5, backoff: 'linear', initialDelayMs: 1000 }, 3, undefined, none)).toBe(3000);
    expect(retryDelayMs({ maxAttempts: 5, backoff: 'exponential', initialDelayMs: 1000 }, 3, undefined, none)).toBe(
      4000,
    );
    expect(
      retryDelayMs(
        { maxAttempts: 9, backoff: 'exponential', initialDelayMs: 1000, maxDelayMs: 5000 },
        8,
        undefined,
        none,
      ),
    ).toBe(5000);
    expect(retryDelayMs({ maxAttempts: 5, backoff: 'constant', initialDelayMs: 100 }, 1, 30_000, none)).toBe(30_000);
  });
});
