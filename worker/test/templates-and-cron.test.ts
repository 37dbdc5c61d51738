import { describe, expect, it } from 'vitest';
import { cronMatches } from '../src/triggers/cron';
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
  const at = (iso: string) => new Date(iso);
  it('matches steps, ranges, lists and day names the classic way', () => {
    expect(cronMatches('*/15 * * * *', at('2026-11-26T12:30:00Z'))).toBe(true);
    expect(cronMatches('*/15 * * * *', at('2026-11-26T12:31:00Z'))).toBe(false);
    expect(cronMatches('0 9-17 * * 1-5', at('2026-11-26T10:00:00Z'))).toBe(true); // a Thursday
    expect(cronMatches('0 9-17 * * 1-5', at('2026-11-29T10:00:00Z'))).toBe(false); // a Sunday
    expect(cronMatches('0 0 * * 7', at('2026-11-29T00:00:00Z'))).toBe(true); // 7 is Sunday too
    expect(cronMatches('0 0 1,15 * *', at('2026-11-15T00:00:00Z'))).toBe(true);
    // Both day fields restricted: either may match.
    expect(cronMatches('0 0 1 * 4', at('2026-11-26T00:00:00Z'))).toBe(true);
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
