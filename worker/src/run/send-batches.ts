/**
 * Splits step messages into `sendBatch` calls the Queue accepts: at most 100 messages and
 * 256 KB a call. A batch over either limit is refused whole, and refused again on every
 * re-send, so its steps would wait forever.
 */
import { utf8Bytes } from '../lib/json-limits';
import { MAX_SEND_BATCH_BYTES } from './limits';

/** Queue.sendBatch takes at most 100 messages. */
export const MAX_SEND_BATCH_COUNT = 100;

export function sendBatches<T>(messages: T[], maxBytes = MAX_SEND_BATCH_BYTES, maxCount = MAX_SEND_BATCH_COUNT): T[][] {
  // One message (a run sends one step at a time, but for re-sends) is within the per-message limit already.
  if (messages.length <= 1) return messages.length ? [messages] : [];
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    // Each message alone is within the per-message limit: pump fails a step whose message is not.
    const size = utf8Bytes(JSON.stringify(m));
    if (current.length && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}
