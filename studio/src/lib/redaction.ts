/**
 * How the studio shows values that held secrets. The API masks them before they are
 * stored (`********`); anything that still looks like a secret (an unresolved secret
 * marker, a credential field holding a string) is masked here too, so the page never
 * prints one even if a writer forgot.
 */
export const MASK = '********';

const MARKER = /⟦secret:[^⟧]*⟧/g;
const CREDENTIAL_KEY =
  /^(password|passphrase|secret|client[-_]?secret|token|access[-_]?token|authorization|api[-_]?key)$/i;

export function maskForDisplay(value: unknown, key?: string): unknown {
  if (typeof value === 'string') {
    if (key && CREDENTIAL_KEY.test(key) && value !== MASK) return MASK;
    return value.replace(MARKER, MASK);
  }
  if (Array.isArray(value)) return value.map((v) => maskForDisplay(v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskForDisplay(v, k)]));
  return value;
}

/** Pretty JSON cut into plain text and masks, so the page can mark the masks. */
export function maskedJsonParts(value: unknown): { text: string; masked: boolean }[] {
  const text = JSON.stringify(maskForDisplay(value), null, 2);
  return text.split(MASK).flatMap((part, i) =>
    i === 0
      ? [{ text: part, masked: false }]
      : [
          { text: MASK, masked: true },
          { text: part, masked: false },
        ],
  );
}
