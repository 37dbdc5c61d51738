/**
 * Splits step messages into `sendBatch` calls the Queue accepts: at most 100 messages and
 * 256 KB a call. A batch over either limit is refused whole, and refused again on every
 * re-send, so its steps would wait forever.
 */
import { chunkBySize } from '../lib/chunk-by-size';
import { utf8Bytes } from '../lib/json-limits';
import { MAX_SEND_BATCH_BYTES } from './limits';

/** Queue.sendBatch takes at most 100 messages. */
export const MAX_SEND_BATCH_COUNT = 100;

export function sendBatches<T>(messages: T[], maxBytes = MAX_SEND_BATCH_BYTES, maxCount = MAX_SEND_BATCH_COUNT): T[][] {
  // One message (a run sends one step at a time, but for re-sends) is within the per-message limit already.
  if (messages.length <= 1) return messages.length ? [messages] : [];
  // Each message alone is within the per-message limit: pump fails a step whose message is not.
  return chunkBySize(messages, (m) => utf8Bytes(JSON.stringify(m)), maxBytes, maxCount);
}
