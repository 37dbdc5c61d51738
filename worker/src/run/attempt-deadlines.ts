/**
 * When an action attempt counts as lost, and what a second delivery of it means.
 *
 * A Queue message is normally picked up within a second, and a claimed attempt reports
 * within its action's time limit (the consumer enforces it). An attempt that has done
 * neither by its deadline was lost: a consumer that died mid-call, or a local stack
 * restarted with its in-memory Queue. The run object's alarm fires at the earliest
 * deadline and re-sends the attempt (same attempt id, same idempotency key), unless the
 * Queue reports messages older than it still waiting: then it is behind a backlog, not
 * lost, and the deadline moves instead (re-sending would only grow the backlog). Every
 * delivery a consumer executes is recorded in the attempt's log, so the Explorer can say
 * when a call may have happened more than once. docs/execution.md explains the numbers.
 */
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from '../../../connectors';

/** A message not picked up this long after it was sent is re-sent (unless the Queue still holds older ones). */
export const PICKUP_TIMEOUT_MS = 60_000;
/**
 * Past this, an unpicked message is re-sent even while the Queue reports a backlog older
 * than it: a backlog is bounded by the consumer's retries (a message that keeps failing
 * reaches the dead-letter queue within minutes), so a message this late was lost.
 */
export const MAX_BACKLOG_WAIT_MS = 15 * 60_000;
/** Queue timestamps come from another machine's clock: this much newer still counts as "as old". */
const QUEUE_CLOCK_SLACK_MS = 2_000;
/** Each further re-send of a message nobody picked up waits twice as long: a backlog is not a loss. */
const MAX_PICKUP_TIMEOUT_MS = 10 * 60_000;
/**
 * A claimed attempt reports within its time limit plus this: the consumer stops waiting
 * for the connector ABANDON_AFTER_MS after the limit, then reports through the run object.
 */
export const REPORT_MARGIN_MS = 15_000;
/** How long past its limit the consumer waits for a connector that ignores the abort signal. */
export const ABANDON_AFTER_MS = 2_000;

export type RedeliveryReason = 'queue redelivery' | 'resent after timeout';

/** One delivery of an attempt that a consumer executed. */
export interface Delivery {
  at: number;
  /** Which send of the attempt's message this was (1 = the first). */
  send: number;
  /** True from the second delivery on: the call may have happened before. */
  redelivery: boolean;
  reason?: RedeliveryReason;
}

/** The attempt-log fields these rules read; older records lack the optional ones. */
export interface AttemptTiming {
  queuedAt: number;
  startedAt?: number;
  /** The attempt's time limit in ms (absent in records from before limits: the default). */
  timeoutMs?: number;
  /** How many times the run object has sent the message (absent: 1). */
  sends?: number;
  /** When it last sent it (absent: queuedAt). */
  sentAt?: number;
  /**
   * When the run object last found, at the pickup deadline, that the Queue still held
   * messages as old as this send (a backlog, not a loss): the deadline counts from then.
   */
  backlogSeenAt?: number;
  /** The Queue refused the latest send: no backlog can hold it, it is re-sent at its deadline. */
  sendFailed?: boolean;
  deliveries?: Delivery[];
}

export const limitOf = (log: AttemptTiming) => log.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;

/** The latest delivery a consumer executed, if any (records from before delivery logs: the first start). */
export function lastDelivery(log: AttemptTiming): Delivery | undefined {
  const recorded = log.deliveries?.[log.deliveries.length - 1];
  if (recorded) return recorded;
  return log.startedAt === undefined ? undefined : { at: log.startedAt, send: 1, redelivery: false };
}

/**
 * When the attempt counts as lost if nothing more happens: its latest delivery plus its
 * time limit and the report margin, or, when its latest event is a send nobody picked up,
 * that send plus the pickup timeout (doubling for each unanswered re-send).
 */
export function attemptDeadline(log: AttemptTiming): number {
  const sentAt = log.sentAt ?? log.queuedAt;
  const delivered = lastDelivery(log);
  if (!awaitingPickup(log)) return delivered!.at + limitOf(log) + REPORT_MARGIN_MS;
  const unanswered = Math.max(1, (log.sends ?? 1) - (delivered?.send ?? 0));
  const since = Math.max(sentAt, log.backlogSeenAt ?? 0);
  return since + Math.min(MAX_PICKUP_TIMEOUT_MS, PICKUP_TIMEOUT_MS * 2 ** (unanswered - 1));
}

/** Whether the attempt's deadline is a pickup deadline: its latest send has not been delivered. */
export function awaitingPickup(log: AttemptTiming): boolean {
  const delivered = lastDelivery(log);
  return !(delivered && delivered.at >= (log.sentAt ?? log.queuedAt));
}

/** What Queue.metrics() reports that matters here: the messages waiting and the oldest one's time. */
export type QueueBacklog = Pick<QueueMetrics, 'backlogCount' | 'oldestMessageTimestamp'>;

/**
 * At a pickup deadline: whether the message may still be waiting in the Queue behind a
 * backlog, so that sending it again would only add to the backlog. True when the Queue
 * holds a message at least as old as this send (its oldest waiting one) and the send is
 * not older than MAX_BACKLOG_WAIT_MS (and the Queue took it). An empty Queue, or one whose oldest message is
 * newer, no longer holds this send: it was lost (or is being delivered, and a second copy
 * is refused at the claim).
 */
export function stillQueued(log: AttemptTiming, backlog: QueueBacklog | null, now: number): boolean {
  if (log.sendFailed || !backlog || backlog.backlogCount <= 0 || backlog.oldestMessageTimestamp == null) return false;
  const sentAt = log.sentAt ?? log.queuedAt;
  if (now - sentAt >= MAX_BACKLOG_WAIT_MS) return false;
  // Typed as a Date; read defensively, since a local Queue answers its metrics as JSON (epoch ms).
  const oldest = new Date(backlog.oldestMessageTimestamp as Date | number).getTime();
  return Number.isFinite(oldest) && oldest <= sentAt + QUEUE_CLOCK_SLACK_MS;
}

/**
 * Whether a delivery of an attempt that a consumer already executes should execute too.
 * The same message again (the Queue redelivers only after its consumer failed) runs;
 * another copy runs only once the current delivery is past its limit and report margin,
 * so a re-sent copy that was merely stuck in a backlog does not repeat a live call.
 */
export function redeliveryFor(log: AttemptTiming, send: number, now: number): Delivery | null {
  const previous = lastDelivery(log);
  if (!previous) return { at: now, send, redelivery: false };
  if (send === previous.send) return { at: now, send, redelivery: true, reason: 'queue redelivery' };
  if (now < previous.at + limitOf(log) + REPORT_MARGIN_MS) return null;
  return {
    at: now,
    send,
    redelivery: true,
    reason: send > previous.send ? 'resent after timeout' : 'queue redelivery',
  };
}
