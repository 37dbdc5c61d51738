/**
 * Secret markers: how a rendered step refers to a secret without holding it. The run
 * object renders `{{ secrets.API_KEY }}` as `⟦secret:API_KEY:<run nonce>⟧`; only the
 * consumer, right before calling the connector, replaces markers with plaintext.
 */
import { mapStrings } from './templates';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function markerFor(nonce: string) {
  return (name: string) => `⟦secret:${name}:${nonce}⟧`;
}

function markerPattern(nonce: string) {
  return new RegExp(`⟦secret:([A-Za-z0-9_]+):${escapeRegExp(nonce)}⟧`, 'g');
}

/** Plaintext in place of markers; a marker that is the whole string becomes the value itself. */
export function fillSecrets(value: unknown, secrets: Record<string, string>, nonce: string): unknown {
  const pattern = markerPattern(nonce);
  return mapStrings(value, (s) =>
    s.includes('⟦secret:') ? s.replace(pattern, (_m, name: string) => secrets[name] ?? '') : s,
  );
}

/** Markers shown as the template the user wrote, for the Explorer's step input. */
export function describeSecrets(value: unknown, nonce: string): unknown {
  const pattern = markerPattern(nonce);
  return mapStrings(value, (s) =>
    s.includes('⟦secret:') ? s.replace(pattern, (_m, name: string) => `{{ secrets.${name} }}`) : s,
  );
}

/** Markers shown as the mask, for a dry run's "what the action would get". */
export function maskSecrets(value: unknown, nonce: string): unknown {
  const pattern = markerPattern(nonce);
  return mapStrings(value, (s) => (s.includes('⟦secret:') ? s.replace(pattern, '********') : s));
}
