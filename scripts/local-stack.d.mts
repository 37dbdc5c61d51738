// Types for local-stack.mjs, for its TypeScript user (e2e/global-setup.ts).
import type { ChildProcess } from 'node:child_process';

export const root: string;
export const wranglerEnv: NodeJS.ProcessEnv;
export const unattendedEnv: NodeJS.ProcessEnv;

export interface WranglerDev {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  child: ChildProcess;
  ready(readyPath: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  kill(): void;
}

export function startWranglerDev(options: {
  cwd: string;
  args: string[];
  logFile: string;
  port?: number;
}): Promise<WranglerDev>;
