/**
 * Refuses hard-coded credentials in a workflow file. Secrets must be references
 * (`{"$secret": "KEY"}`); a literal would end up in version history, exports, git
 * and the Explorer. The error names the field, never the value.
 */
import { formatPath, type FieldIssue } from '../errors';

/** Formats of well-known credentials, matched anywhere in a string. */
const KNOWN_FORMATS: [RegExp, string][] = [
  [/\b[sr]k_(live|test)_[A-Za-z0-9]{10,}/, 'a Stripe secret key'],
  [/\bwhsec_[A-Za-z0-9+/=]{10,}/, 'a webhook signing secret'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/, 'a GitHub token'],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/, 'a GitHub token'],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, 'a GitLab token'],
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key'],
  [/\bAIza[0-9A-Za-z_-]{35}/, 'a Google API key'],
  [/\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/, 'a SendGrid key'],
  [/\batm_[A-Za-z0-9_-]{20,}/, 'an Automate API token'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JWT'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/:\/\/[^/\s:@{}]+:[^/\s@{}]{3,}@/, 'a password inside a URL'],
];

/** Field names that hold credentials, compared without case, "_" or "-". */
const SENSITIVE_KEY =
  /(token|secret|password|passwd|pwd|apikey|accesskey|privatekey|authorization|auth|credential|signingkey|clientsecret)$/;
const PASSWORD_KEY = /(password|passwd|pwd)$/;

function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/** What is left of a value once templates and an auth scheme word are taken out. */
function literalPart(value: string): string {
  return value
    .replace(/\{\{[^}]*\}\}/g, '')
    .replace(/^\s*(Bearer|Basic|Token|Bot)\s+/i, '')
    .trim();
}

function looksLikeCredentialUnder(key: string, value: string): boolean {
  const name = key.toLowerCase().replace(/[_-]/g, '');
  if (!SENSITIVE_KEY.test(name)) return false;
  const literal = literalPart(value);
  if (/\s/.test(literal)) return false; // prose, not a credential
  if (PASSWORD_KEY.test(name)) return literal.length >= 6;
  return literal.length >= 16 && entropy(literal) >= 3;
}

function isSecretRef(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v) && '$secret' in v;
}

export function findHardcodedCredentials(file: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const walk = (value: unknown, path: (string | number)[], key: string | null) => {
    if (isSecretRef(value)) return;
    if (typeof value === 'string') {
      const known = KNOWN_FORMATS.find(([re]) => re.test(value));
      if (known) {
        issues.push({
          path: formatPath(path),
          message: `looks like ${known[1]}; store it as a secret and use {"$secret": "KEY"}`,
        });
      } else if (key && looksLikeCredentialUnder(key, value)) {
        issues.push({
          path: formatPath(path),
          message: `looks like a hard-coded credential; store it as a secret and use {"$secret": "KEY"}`,
        });
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, [...path, i], key);
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (path.length === 0 && k === 'ui') continue; // layout only
        walk(v, [...path, k], k);
      }
    }
  };
  walk(file, [], null);
  return issues;
}
