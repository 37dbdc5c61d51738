/**
 * A bench's own mass delete slows the next bench's run objects. Each bench ends by deleting
 * its stacks' files (tens of thousands); on ext4 without a journal (this project's bench
 * machine) the kernel skips an inode freed less than 60 s ago, or 360 s while its inode table
 * block is dirty, when it allocates a new one, so a bench started within six minutes pays at
 * every file it creates, and Automate creates a database per run (n8n, one SQLite file, does
 * not). Measured: two passes of one sitting 3 minutes apart, 81.6 and 125.2 acks/s
 * (bench/README.md, "Issue 11: before and after"). So each bench notes when it deleted, and
 * the next one with a peer waits out the rest of those six minutes before it measures.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MARK = path.join(os.tmpdir(), 'automate-bench-last-delete');
/** The kernel's longest window (360 s) and a margin. */
export const SETTLE_MS = 390_000;

/** Called after a bench deleted its files. */
export function markDelete() {
  try {
    writeFileSync(MARK, String(Date.now()));
  } catch {
    // Only a hint for the next bench.
  }
}

function lastDelete() {
  try {
    const at = Number(readFileSync(MARK, 'utf8'));
    return Number.isFinite(at) ? at : null;
  } catch {
    return null;
  }
}

/**
 * Waits (wait = true) or warns until SETTLE_MS have passed since the previous bench's delete.
 * Returns what the results file records: seconds since that delete (null: none noted) and
 * seconds waited.
 */
export async function settleDisk({ wait, log }) {
  const at = lastDelete();
  const since = at === null ? null : Date.now() - at;
  if (since === null || since >= SETTLE_MS || since < 0)
    return { secondsSinceLastDelete: since === null ? null : Math.round(since / 1000), waitedSeconds: 0 };
  const rest = SETTLE_MS - since;
  if (!wait) {
    log(
      `the previous bench deleted its files ${Math.round(since / 1000)} s ago: file creation is slower for another ${Math.round(rest / 1000)} s on ext4 without a journal (bench/lib/disk-settle.mjs)`,
    );
    return { secondsSinceLastDelete: Math.round(since / 1000), waitedSeconds: 0 };
  }
  log(
    `waiting ${Math.round(rest / 1000)} s: the previous bench deleted its files ${Math.round(since / 1000)} s ago, which slows file creation on ext4 without a journal (bench/lib/disk-settle.mjs; --no-settle skips)`,
  );
  await new Promise((r) => setTimeout(r, rest));
  return { secondsSinceLastDelete: Math.round(since / 1000), waitedSeconds: Math.round(rest / 1000) };
}
