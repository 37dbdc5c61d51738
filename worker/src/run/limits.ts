/** Size caps for what a run keeps. */

/** Largest step output (serialized) the run keeps for later steps' templates. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Largest step message sent to the Queue (its limit is 128 KB per message). */
export const MAX_MESSAGE_BYTES = 120 * 1024;
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

export function capValue(value: unknown, maxBytes = MAX_OUTPUT_BYTES): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value) ?? 'null';
  if (text.length <= maxBytes) return value;
  const out: Truncated = {
    $truncated: true,
    bytes: new TextEncoder().encode(text).byteLength,
    preview: text.slice(0, PREVIEW_CHARS),
  };
  return out;
}

export function capText(text: string | undefined, max = 16 * 1024): string | undefined {
  return text && text.length > max ? `${text.slice(0, max)}… [truncated ${text.length - max} chars]` : text;
}
