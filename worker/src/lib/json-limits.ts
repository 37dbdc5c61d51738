/**
 * Limits on every JSON value the service accepts (docs/workflow-file.md#limits): /api request bodies,
 * webhook bodies, run payloads and the free-JSON fields of workflow files. One depth
 * limit and one set of sizes, checked where the input enters, so nothing deeper or
 * larger ever reaches code that recurses over it (JSON.stringify, templates, D1).
 */
import type { FieldIssue } from '../errors';
import { formatPath } from '../errors';

/** Deepest nesting of objects and arrays in any JSON document: `{"a": {"b": 1}}` is 2 levels. */
export const MAX_JSON_DEPTH = 64;
/** Largest /api request body and webhook body, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Largest trigger event a run records (`{body, headers, query}` as UTF-8 JSON). Above the
 * body limit because headers count and a form or text body grows when written as JSON
 * (a control character becomes `\u0001`); below D1's 2 MB per value, where it is stored.
 */
export const MAX_TRIGGER_BYTES = 1536 * 1024;

/** Longest key shown in an error's path, so a hostile 1 MB key does not come back in the answer. */
const MAX_PATH_KEY_CHARS = 40;

interface Frame {
  value: object;
  depth: number;
  key: string | number | null;
  parent: Frame | null;
}

const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;

/**
 * The path of the first object or array nested deeper than `maxDepth` (the root
 * container is level 1), or null. Iterative, and it stops at the first crossing, so
 * the check cannot itself overflow the stack however deep the value is.
 */
export function tooDeepPath(value: unknown, maxDepth = MAX_JSON_DEPTH): (string | number)[] | null {
  if (!isContainer(value)) return null;
  const stack: Frame[] = [{ value, depth: 1, key: null, parent: null }];
  while (stack.length) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) return pathOf(frame);
    const v = frame.value;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const child: unknown = v[i];
        if (isContainer(child)) stack.push({ value: child, depth: frame.depth + 1, key: i, parent: frame });
      }
    } else {
      for (const key of Object.keys(v)) {
        const child: unknown = (v as Record<string, unknown>)[key];
        if (isContainer(child)) stack.push({ value: child, depth: frame.depth + 1, key, parent: frame });
      }
    }
  }
  return null;
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) {
    const key = f.key;
    path.push(
      typeof key === 'string' && key.length > MAX_PATH_KEY_CHARS ? `${key.slice(0, MAX_PATH_KEY_CHARS)}…` : key,
    );
  }
  return path.reverse();
}

export const depthMessage = (maxDepth = MAX_JSON_DEPTH) =>
  `nested deeper than ${maxDepth} levels of objects and arrays (the limit for any JSON the service accepts)`;

/** A field issue for a value nested too deep, its path prefixed with `prefix`; null if within the limit. */
export function depthIssue(value: unknown, prefix: (string | number)[] = []): FieldIssue | null {
  const path = tooDeepPath(value);
  return path ? { path: formatPath([...prefix, ...path]), message: depthMessage() } : null;
}

/** UTF-8 length of a string without allocating its encoding. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
