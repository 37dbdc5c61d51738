/** `automate import --file|--dir`: one progress line per file; exit 1 if any failed. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { importWorkflow, type ImportOutcome } from './import-workflow.ts';

export interface ImportOptions {
  file?: string;
  dir?: string;
  publish: boolean;
  baseUrl: string;
  token: string;
}

type Saved = Extract<ImportOutcome, { ok: true }>['result'];
type Failure = Extract<ImportOutcome, { ok: false }>;

export async function importCommand({ file, dir, publish, baseUrl, token }: ImportOptions): Promise<number> {
  let files: string[];
  if (file) {
    files = [file];
  } else {
    try {
      const entries = await readdir(dir!, { withFileTypes: true });
      files = entries
        .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.json'))
        .map((e) => e.name)
        .sort()
        .map((name) => path.join(dir!, name));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      console.error(`✗ cannot read folder ${dir}: ${e.code === 'ENOENT' ? 'no such folder' : e.message}`);
      return 1;
    }
    if (files.length === 0) {
      console.error(`✗ no *.json files in ${dir}`);
      return 1;
    }
  }

  let failed = 0;
  for (const [i, current] of files.entries()) {
    const outcome = await importOne(current, { publish, baseUrl, token });
    const label = path.basename(current);
    if (outcome.ok) {
      console.log(`✓ ${label} → ${outcome.result.key} (${describe(outcome.result, publish)})`);
      continue;
    }
    failed++;
    console.error(formatFailure(label, outcome));
    if (outcome.fatal && i < files.length - 1) {
      console.error(`✗ stopped: ${files.length - i - 1} more file(s) not imported`);
      failed += files.length - i - 1;
      break;
    }
  }
  if (files.length > 1) {
    const summary = `${files.length - failed} of ${files.length} files imported`;
    if (failed) console.error(`✗ ${summary}, ${failed} failed`);
    else console.log(`✓ ${summary}`);
  }
  return failed ? 1 : 0;
}

async function importOne(
  file: string,
  { publish, baseUrl, token }: Omit<ImportOptions, 'file' | 'dir'>,
): Promise<ImportOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      ok: false,
      fatal: false,
      message: e.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${e.message}`,
    };
  }
  try {
    JSON.parse(text);
  } catch (err) {
    return { ok: false, fatal: false, message: `invalid JSON: ${(err as Error).message}` };
  }
  // The text goes as written: the server keeps it verbatim, so export gives it back unchanged.
  return importWorkflow({ baseUrl, token, text, publish });
}

function describe(result: Saved, publish: boolean): string {
  const saved = result.created ? 'created' : 'updated';
  if (!publish || result.version === undefined) return `${saved}, draft saved`;
  return result.unchanged ? `${saved}, v${result.version} already published` : `${saved}, published v${result.version}`;
}

function formatFailure(label: string, { message, summary, details = [] }: Failure): string {
  if (details.length === 1) return `✗ ${label}: ${details[0].path}: ${details[0].message}`;
  if (details.length > 1)
    return [`✗ ${label}: ${summary}`, ...details.map((d) => `    ${d.path}: ${d.message}`)].join('\n');
  return `✗ ${label}: ${message}`;
}
