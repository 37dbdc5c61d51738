#!/usr/bin/env node
// The `automate` command line (README: Code-first workflows). TypeScript that the pinned Node 24 runs as is
// (it strips types), so `npx automate` needs no build step; it talks to the API through
// the typed client in api/client.ts.
import { parseArgs } from 'node:util';
import { importCommand } from './lib/import-command.ts';

const HELP = `Usage: automate <command> [options]

Commands:
  import --file <path> [--publish]    Import one workflow file (create or update its draft)
  import --dir <folder> [--publish]   Import every *.json file in a folder, in name order

Options:
  --publish     Also publish each imported workflow as a new active version
  -h, --help    Show this help

Environment:
  AUTOMATE_URL    API base URL (default http://127.0.0.1:8787)
  AUTOMATE_TOKEN  Tenant API token (required); create one in the studio or with POST /api/tokens

Examples:
  AUTOMATE_TOKEN=atm_... npx automate import --file workflows/order_flow.json --publish
  npx automate import --dir workflows/
`;

const parseCommandLine = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      file: { type: 'string' },
      dir: { type: 'string' },
      publish: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });

/** Exit codes: 0 ok, 1 something failed, 2 the command line itself was wrong. */
async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    return usageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...extra] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (!command) return usageError('No command given.');
  if (command !== 'import') return usageError(`Unknown command "${command}".`);
  if (extra.length) return usageError(`Unexpected argument "${extra[0]}".`);
  if (Boolean(values.file) === Boolean(values.dir))
    return usageError('import needs exactly one of --file <path> or --dir <folder>.');

  const token = process.env.AUTOMATE_TOKEN?.trim();
  if (!token) {
    console.error(
      '✗ AUTOMATE_TOKEN is not set. Create an API token (studio, or POST /api/tokens) and run:\n    export AUTOMATE_TOKEN=atm_...',
    );
    return 1;
  }
  const baseUrl = (process.env.AUTOMATE_URL?.trim() || 'http://127.0.0.1:8787').replace(/\/+$/, '');
  return importCommand({ file: values.file, dir: values.dir, publish: values.publish, baseUrl, token });
}

function usageError(message: string): number {
  console.error(`✗ ${message}\n\n${HELP}`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
