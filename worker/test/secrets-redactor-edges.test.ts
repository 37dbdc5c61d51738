/** Values cut mid-way by a connector's error snippet are still hidden at the cut. */
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/secrets/redactor';

const key = 'erp-key-7f3a9c21d4';

describe("redactor at a snippet's cut", () => {
  const r = createRedactor([key]);
  it('hides the start of a value cut off at the end of a text', () => {
    expect(r.scrubText(`Authentication failed: invalid API key '${key.slice(0, 11)}…`)).toBe(
      "Authentication failed: invalid API key '********…",
    );
    expect(r.scrubText(`got ${key.slice(0, 9)}`)).toBe('got ********');
    expect(r.scrubText(`got ${key.slice(0, 12)}... [truncated 80 chars]`)).toBe('got ********... [truncated 80 chars]');
  });

  it('hides the end of a value at the start of a text cut from the front', () => {
    expect(r.scrubText(`${key.slice(5)}' is not valid`)).toBe("********' is not valid");
  });

  it('leaves short coincidences and unrelated text alone', () => {
    expect(r.scrubText('erp-k is fine')).toBe('erp-k is fine');
    expect(r.scrubText('nothing to see here')).toBe('nothing to see here');
  });
});
