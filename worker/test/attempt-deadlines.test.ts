/** The rules for when an attempt counts as lost and when a repeated delivery executes (pure). */
import { describe, expect, it } from 'vitest';
import {
  PICKUP_TIMEOUT_MS,
  REPORT_MARGIN_MS,
  attemptDeadline,
  redeliveryFor,
  type AttemptTiming,
} from '../src/run/attempt-deadlines';

const T0 = 1_000_000;

describe('attemptDeadline', () => {
  it('gives a message nobody picked up the pickup timeout, doubling with each unanswered re-send', () => {
    expect(attemptDeadline({ queuedAt: T0, sends: 1, sentAt: T0 })).toBe(T0 + PICKUP_TIMEOUT_MS);
    expect(attemptDeadline({ queuedAt: T0, sends: 2, sentAt: T0 + 60_000 })).toBe(T0 + 60_000 + 2 * PICKUP_TIMEOUT_MS);
    expect(attemptDeadline({ queuedAt: T0, sends: 3, sentAt: T0 })).toBe(T0 + 4 * PICKUP_TIMEOUT_MS);
    // Capped at 10 minutes.
    expect(attemptDeadline({ queuedAt: T0, sends: 20, sentAt: T0 })).toBe(T0 + 10 * 60_000);
  });

  it('gives a claimed attempt its own limit plus the report margin from its latest delivery', () => {
    const claimed: AttemptTiming = {
      queuedAt: T0,
      sentAt: T0,
      sends: 1,
      timeoutMs: 5000,
      startedAt: T0 + 100,
      deliveries: [{ at: T0 + 100, send: 1, redelivery: false }],
    };
    expect(attemptDeadline(claimed)).toBe(T0 + 100 + 5000 + REPORT_MARGIN_MS);
    // Re-sent after that and not yet picked up: the pickup timeout of the new send.
    const resent = { ...claimed, sends: 2, sentAt: T0 + 30_000 };
    expect(attemptDeadline(resent)).toBe(T0 + 30_000 + PICKUP_TIMEOUT_MS);
    // Picked up again: its limit from the new delivery.
    const again = {
      ...resent,
      deliveries: [...claimed.deliveries!, { at: T0 + 30_500, send: 2, redelivery: true }],
    };
    expect(attemptDeadline(again)).toBe(T0 + 30_500 + 5000 + REPORT_MARGIN_MS);
  });

  it('reads records from before limits and delivery logs with the defaults', () => {
    expect(attemptDeadline({ queuedAt: T0 })).toBe(T0 + PICKUP_TIMEOUT_MS);
    expect(attemptDeadline({ queuedAt: T0, startedAt: T0 + 10 })).toBe(T0 + 10 + 30_000 + REPORT_MARGIN_MS);
  });
});

describe('redeliveryFor', () => {
  const running: AttemptTiming = {
    queuedAt: T0,
    sends: 2,
    sentAt: T0 + 50_000,
    timeoutMs: 5000,
    deliveries: [{ at: T0, send: 1, redelivery: false }],
  };

  it('executes the same message again at once, as a queue redelivery', () => {
    expect(redeliveryFor(running, 1, T0 + 10)).toEqual({
      at: T0 + 10,
      send: 1,
      redelivery: true,
      reason: 'queue redelivery',
    });
  });

  it('skips another copy while the current delivery is within its limit and margin, then executes it', () => {
    expect(redeliveryFor(running, 2, T0 + 5000 + REPORT_MARGIN_MS - 1)).toBeNull();
    expect(redeliveryFor(running, 2, T0 + 5000 + REPORT_MARGIN_MS)).toEqual({
      at: T0 + 5000 + REPORT_MARGIN_MS,
      send: 2,
      redelivery: true,
      reason: 'resent after timeout',
    });
  });
});
