/**
 * Splits `items`, in order, into groups of at most `maxCount` items whose `sizeOf` adds up to
 * at most `maxBytes`. An item larger than `maxBytes` on its own makes a group of its own: the
 * callers bound single items elsewhere (a Queue message, an index request).
 */
export function chunkBySize<T>(items: T[], sizeOf: (item: T) => number, maxBytes: number, maxCount = Infinity): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length && (current.length >= maxCount || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
