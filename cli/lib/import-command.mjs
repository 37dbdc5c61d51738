/** `automate import --file|--dir`: one progress line per file; exit 1 if any failed. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { importWorkflow } from './api-client.mjs';

export async function importCommand({ file, dir, publish, baseUrl, token }) {
  let files;
  if (file) {
    files = [file];
  } else {
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      files = entries
        .filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.json'))
        .map((e) => e.name)
        .sort()
        .map((name) => path.join(dir, name));
    } catch (err) {
      console.error(`✗ cannot read folder ${dir}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}`);
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

async function importOne(file, { publish, baseUrl, token }) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      message: err.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${err.message}`,
    };
  }
  try {
    JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `invalid JSON: ${err.message}` };
  }
  // The text goes as written: the server keeps it verbatim, so export gives it back unchanged.
  return importWorkflow({ baseUrl, token, text, publish });
}

function describe(result, publish) {
  const saved = result.created ? 'created' : 'updated';
  if (!publish || result.version === undefined) return `${saved}, draft saved`;
  return result.unchanged ? `${saved}, v${result.version} already published` : `${saved}, published v${result.version}`;
}

function formatFailure(label, { message, summary, details = [] }) {
  if (details.length === 1) return `✗ ${label}: ${details[0].path}: ${details[0].message}`;
  if (details.length > 1)
    return [`✗ ${label}: ${summary}`, ...details.map((d) => `    ${d.path}: ${d.message}`)].join('\n');
  return `✗ ${label}: ${message}`;
}
