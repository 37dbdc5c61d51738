/**
 * Which Chromium the studio tests drive. Debian's `chromium` (what `.ci/run` installs) when
 * it is there; otherwise the one inside the `@sparticuz/chromium` npm package, so a fresh
 * machine needs nothing but `npm install`. `AUTOMATE_CHROMIUM=/path` picks a binary;
 * `AUTOMATE_CHROMIUM=` (set but empty) forces the npm fallback even where Debian's exists.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sparticuz, { inflate } from '@sparticuz/chromium';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface ChromiumLaunch {
  executablePath: string;
  /** Flags on top of the ones every launch gets. */
  args: string[];
  /** Environment for the browser process (the fallback brings its own libraries and fonts). */
  env?: Record<string, string>;
  source: 'AUTOMATE_CHROMIUM' | 'system' | '@sparticuz/chromium';
}

let resolved: Promise<ChromiumLaunch> | undefined;

export function chromiumLaunch(): Promise<ChromiumLaunch> {
  resolved ??= resolve();
  return resolved;
}

async function resolve(): Promise<ChromiumLaunch> {
  const chosen = process.env.AUTOMATE_CHROMIUM;
  if (chosen) return { executablePath: chosen, args: [], source: 'AUTOMATE_CHROMIUM' };
  if (chosen === undefined && existsSync(SYSTEM_CHROMIUM))
    return { executablePath: SYSTEM_CHROMIUM, args: [], source: 'system' };
  return npmChromium();
}

/**
 * The package's headless-shell build, extracted once to the OS temp dir (it reuses an earlier
 * extraction). It links against NSS and expat, which a machine without Debian's chromium may
 * lack: the package ships Amazon Linux builds of exactly those, so they go first on the
 * library path. Its fonts come along too, for machines with none installed.
 */
async function npmChromium(): Promise<ChromiumLaunch> {
  const executablePath = await sparticuz.executablePath();
  const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const libs = path.join(await inflate(path.join(bin, 'al2023.tar.br')), 'lib');
  const fonts = path.join(path.dirname(executablePath), 'fonts');
  const libraryPath = [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return {
    executablePath,
    // Its build has no zygote helper to fork renderers from.
    args: ['--no-zygote'],
    env: {
      ...(process.env as Record<string, string>),
      LD_LIBRARY_PATH: libraryPath,
      ...(existsSync(fonts) ? { FONTCONFIG_PATH: fonts } : {}),
    },
    source: '@sparticuz/chromium',
  };
}
