/** The rules for when an attempt counts as lost and when a repeated delivery executes (pure). */
import { describe, expect, it } from 'vitest';
import {
  MAX_BACKLOG_WAIT_MS,
  PICKUP_TIMEOUT_MS,
  REPORT_MARGIN_MS,
  attemptDeadline,
  awaitingPickup,
  redeliveryFor,
  stillQueued,
  type AttemptTiming,
} from '../src/run/attempt-deadlines';
import {
  initState,
  lostAttempts,
  markSendFailed,
  overdueAttempts,
  pickupOverdue,
  pump,
  resendAttempt,
} from '../src/run/run-state';

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

/** A run of one http action whose attempt was queued and sent at T0. */
function oneActionRun(runId: string) {
  const definition = {
    key: 'one',
    name: 'one',
    trigger: { type: 'api' },
    steps: [
      {
        id: 'a',
        type: 'action',
        connector: 'http',
        action: 'request',
        params: { method: 'GET', url: 'https://a.example' },
      },
    ],
  };
  const run = initState(
    {
      runId,
      tenant: { id: 't', slug: 't' },
      workflow: { id: 'w', key: 'one', version: 1 },
      definition,
      trigger: { type: 'api', body: {}, headers: {}, query: {} },
      createdAt: T0,
    },
    T0,
  );
  const [message] = pump(run.state, run.outputs, run.wf, T0).messages;
  return { ...run, message };
}

describe('a pickup deadline behind a Queue backlog', () => {
  const sent: AttemptTiming = { queuedAt: T0, sends: 1, sentAt: T0 };
  const at = T0 + PICKUP_TIMEOUT_MS;

  it('counts the deadline from when the backlog was last seen', () => {
    expect(attemptDeadline({ ...sent, backlogSeenAt: at })).toBe(at + PICKUP_TIMEOUT_MS);
    // A claimed attempt's deadline is its limit, whatever backlog was seen before.
    const claimed = {
      ...sent,
      backlogSeenAt: at,
      timeoutMs: 5000,
      deliveries: [{ at: at + 10, send: 1, redelivery: false }],
    };
    expect(attemptDeadline(claimed)).toBe(at + 10 + 5000 + REPORT_MARGIN_MS);
    expect(awaitingPickup(claimed)).toBe(false);
    expect(awaitingPickup(sent)).toBe(true);
  });

  it('holds a message while the Queue still has one as old, not when it is empty or only has newer ones', () => {
    expect(stillQueued(sent, { backlogCount: 500, oldestMessageTimestamp: new Date(T0 - 5000) }, at)).toBe(true);
    // The Queue's clock may run a little ahead of the run object's.
    expect(stillQueued(sent, { backlogCount: 500, oldestMessageTimestamp: new Date(T0 + 1500) }, at)).toBe(true);
    expect(stillQueued(sent, { backlogCount: 500, oldestMessageTimestamp: new Date(T0 + 30_000) }, at)).toBe(false);
    expect(stillQueued(sent, { backlogCount: 0 }, at)).toBe(false);
    expect(stillQueued(sent, null, at)).toBe(false);
    // A send the Queue refused is in no backlog.
    expect(
      stillQueued(
        { ...sent, sendFailed: true },
        { backlogCount: 500, oldestMessageTimestamp: new Date(T0 - 5000) },
        at,
      ),
    ).toBe(false);
    // A backlog does not hold a message forever.
    expect(
      stillQueued(sent, { backlogCount: 9, oldestMessageTimestamp: new Date(T0 - 1) }, T0 + MAX_BACKLOG_WAIT_MS),
    ).toBe(false);
  });

  it('re-sends only the lost attempts of a run and moves the others’ deadlines', () => {
    const { state } = oneActionRun('run_x');
    const step = state.steps.a;
    expect(step.attempts).toEqual([expect.objectContaining({ attemptId: 'run_x:a:1', ...sent })]);
    state.dirty = []; // as after the start's index flush
    const overdue = overdueAttempts(state, at);
    expect(overdue.map((s) => s.id)).toEqual(['a']);
    expect(pickupOverdue(overdue)).toBe(true);

    const backlogged = lostAttempts(overdue, { backlogCount: 3, oldestMessageTimestamp: new Date(T0 - 1) }, at);
    expect(backlogged).toEqual([]);
    expect(step.attempts[0].backlogSeenAt).toBe(at);
    expect(overdueAttempts(state, at + 1)).toEqual([]);
    // Nothing for the run index: the step's summary there has not changed.
    expect(state.dirty).not.toContain('a');

    const lost = lostAttempts(
      overdueAttempts(state, at + PICKUP_TIMEOUT_MS),
      { backlogCount: 0 },
      at + PICKUP_TIMEOUT_MS,
    );
    expect(lost.map((s) => s.id)).toEqual(['a']);
  });

  it('marks a refused send on the attempt it was for, and a re-send clears it', () => {
    const { state, outputs, wf, message } = oneActionRun('run_y');
    expect(markSendFailed(state, ['run_y:a:9', 'run_other:a:1'])).toBe(false);
    expect(markSendFailed(state, [message.attemptId])).toBe(true);
    const log = state.steps.a.attempts[0];
    expect(log.sendFailed).toBe(true);
    expect(
      lostAttempts(overdueAttempts(state, at), { backlogCount: 9, oldestMessageTimestamp: new Date(T0 - 1) }, at),
    ).toHaveLength(1);
    resendAttempt(state, outputs, wf, state.steps.a, at);
    expect(log.sendFailed).toBeUndefined();
    expect(log.sends).toBe(2);
  });
});
