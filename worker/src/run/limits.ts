/** Size caps for what a run keeps. */
import { utf8Bytes } from '../lib/json-limits';

/** Largest step output (serialized) the run keeps for later steps' templates. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Largest step message sent to the Queue, in UTF-8 bytes (its limit is 128 KB per message). */
export const MAX_MESSAGE_BYTES = 120 * 1024;
/**
 * Most bytes of messages in one `sendBatch` (the Queue refuses a batch over 256 KB, whatever
 * its count): the rest of the room is for the messages' envelopes.
 */
export const MAX_SEND_BATCH_BYTES = 240 * 1000;
/**
 * Largest step input or output the Explorer's D1 record keeps whole; larger ones keep a
 * 2 KB preview and their size. 16 KB (was 64 KB): a run's record is what fills the one
 * D1 database, and a typical step's data is well under 1 KB (docs/retention.md).
 */
export const MAX_RECORDED_BYTES = 16 * 1024;
const PREVIEW_CHARS = 2048;

export interface Truncated {
  $truncated: true;
  /** Size of the full value, serialized. */
  bytes: number;
  preview: string;
}

/**
 * Whether `text` is at most `maxBytes` in UTF-8, which is what Queues and storage count
 * (`String.length` counts UTF-16 units: "€" is 1 unit, 3 bytes). Counts only when in doubt.
 */
export function fitsBytes(text: string, maxBytes: number): boolean {
  // A UTF-16 unit is at most 3 bytes of UTF-8, and at least 1.
  return text.length * 3 <= maxBytes || (text.length <= maxBytes && utf8Bytes(text) <= maxBytes);
}

export function capValue(value: unknown, maxBytes = MAX_OUTPUT_BYTES): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value) ?? 'null';
  if (fitsBytes(text, maxBytes)) return value;
  const out: Truncated = {
    $truncated: true,
    bytes: utf8Bytes(text),
    preview: text.slice(0, PREVIEW_CHARS),
  };
  return out;
}

export function capText(text: string | undefined, max = 16 * 1024): string | undefined {
  return text && text.length > max ? `${text.slice(0, max)}… [truncated ${text.length - max} chars]` : text;
}
