/** JSON for the studio's text boxes: parse with a message a person can act on, print readably. */

export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/** Parses `text`; an empty box is an error too, since every box here expects a value. */
export function parseJson(text: string, what: string): Parsed {
  if (!text.trim()) return { ok: false, message: `${what}: enter a JSON value` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: `${what} is not valid JSON: ${(err as Error).message}` };
  }
}

export const pretty = (value: unknown) => JSON.stringify(value, null, 2) ?? 'undefined';

/** Same JSON value, whatever the formatting. */
export const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
