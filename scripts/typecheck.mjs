#!/usr/bin/env node
/**
 * `npm run typecheck`: regenerates the API types (api/schema.d.ts) from the server's route
 * schemas, then type-checks the Worker, the Node side (CLI, api/, e2e, test tooling) and the
 * studio. Every check runs even when an earlier one fails, so a server change shows each
 * caller it breaks (studio and CLI alike) in one run; the exit code is 1 if any failed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const steps = [
  ['API types', 'node', ['scripts/api-generate.mjs']],
  ['worker', 'tsc', ['--noEmit', '-p', 'tsconfig.json']],
  ['cli, api, e2e', 'tsc', ['--noEmit', '-p', 'tsconfig.node.json']],
  ['studio', 'npm', ['run', '--silent', 'typecheck:studio']],
];

const failed = [];
for (const [name, command, args] of steps) {
  const { status } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (status !== 0) failed.push(name);
  // Types generated from a server that does not build are no basis for checking callers.
  if (status !== 0 && name === 'API types') break;
}
if (failed.length) console.error(`✗ typecheck failed: ${failed.join(', ')}`);
process.exitCode = failed.length ? 1 : 0;
