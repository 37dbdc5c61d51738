#!/usr/bin/env node
/**
 * Local dev only: makes sure `.dev.vars` (gitignored; wrangler dev reads it) holds a master
 * key for stored secrets and lets the single local tenant read env secrets. Missing lines
 * are appended; existing ones are never changed, because a new master key would make
 * every secret already in the local D1 undecryptable. Plain Node, no dependencies.
 *
 * Production never uses this: set AUTOMATE_MASTER_KEY with `wrangler secret put`
 * (docs/secrets.md).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const has = (text, name) => new RegExp(`^\\s*(export\\s+)?${name}\\s*=`, 'm').test(text);

/**
 * @param {string} root directory holding `.dev.vars`
 * @returns {string[]} the names of the variables it added
 */
export function ensureDevVars(root = path.resolve(import.meta.dirname, '..')) {
  const file = path.join(root, '.dev.vars');
  const existed = existsSync(file);
  const text = existed ? readFileSync(file, 'utf8') : '';
  const lines = [];
  const added = [];
  if (!has(text, 'AUTOMATE_MASTER_KEY')) {
    lines.push(
      '# Master key for stored secrets (local only; keep it, or local secrets become unreadable). docs/secrets.md',
    );
    lines.push(`AUTOMATE_MASTER_KEY="dev1:${randomBytes(32).toString('base64')}"`);
    added.push('AUTOMATE_MASTER_KEY');
  }
  if (!has(text, 'AUTOMATE_ENV_GRANTS')) {
    lines.push('# Every tenant may read every AUTOMATE_* env secret: fine for one local tenant. docs/secrets.md');
    lines.push('AUTOMATE_ENV_GRANTS="*"');
    added.push('AUTOMATE_ENV_GRANTS');
  }
  if (lines.length) {
    const sep = text && !text.endsWith('\n') ? '\n' : '';
    writeFileSync(file, `${text}${sep}${lines.join('\n')}\n`, { mode: 0o600 });
    if (!existed) chmodSync(file, 0o600);
  }
  return added;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const added = ensureDevVars();
  if (added.includes('AUTOMATE_MASTER_KEY')) {
    console.log('Generated a local master key for stored secrets (AUTOMATE_MASTER_KEY, key id dev1) in .dev.vars.');
    console.log('Keep that file: secrets stored in the local database cannot be decrypted without it.');
  }
  if (added.includes('AUTOMATE_ENV_GRANTS'))
    console.log('Granted env secrets (AUTOMATE_<KEY> in .dev.vars) to every local tenant: AUTOMATE_ENV_GRANTS="*".');
  if (!added.length) console.log('.dev.vars already has AUTOMATE_MASTER_KEY and AUTOMATE_ENV_GRANTS.');
}
