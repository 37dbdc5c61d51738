/**
 * Which provider drafts, from Worker variables (wrangler.toml `[vars]`, docs/copilot.md).
 * Anything missing or unknown means the built-in provider, so `npm run dev` works offline.
 */
import type { Env } from '../env';
import type { SecretRef } from '../workflows/workflow-file';
import { SECRET_KEY_PATTERN } from '../workflows/workflow-file';

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

export type CopilotConfig =
  | { provider: 'builtin'; problem?: string }
  | { provider: 'workers-ai'; model?: string; timeoutMs: number }
  | { provider: 'openai'; baseUrl: string; model: string; key: SecretRef; timeoutMs: number };

export function copilotConfig(env: Env): CopilotConfig {
  const name = (env.COPILOT_PROVIDER ?? 'builtin').trim().toLowerCase();
  const timeout = Number(env.COPILOT_TIMEOUT_MS);
  const timeoutMs = Number.isFinite(timeout) && timeout > 0 ? Math.min(timeout, 120_000) : DEFAULT_TIMEOUT_MS;
  if (name === 'workers-ai') {
    if (!env.AI)
      return { provider: 'builtin', problem: 'COPILOT_PROVIDER is workers-ai but the AI binding is not configured' };
    return { provider: 'workers-ai', model: env.COPILOT_MODEL || undefined, timeoutMs };
  }
  if (name === 'openai') {
    const baseUrl = env.COPILOT_OPENAI_BASE_URL;
    const keySetting = (env.COPILOT_OPENAI_KEY_SECRET ?? '').trim();
    const envBackend = keySetting.startsWith('env:');
    const keyName = envBackend ? keySetting.slice(4) : keySetting;
    if (!baseUrl || !/^https?:\/\//.test(baseUrl))
      return { provider: 'builtin', problem: 'COPILOT_OPENAI_BASE_URL is not set' };
    if (!SECRET_KEY_PATTERN.test(keyName))
      return { provider: 'builtin', problem: 'COPILOT_OPENAI_KEY_SECRET does not name a secret' };
    return {
      provider: 'openai',
      baseUrl,
      model: env.COPILOT_MODEL || DEFAULT_OPENAI_MODEL,
      key: { $secret: keyName, ...(envBackend ? { backend: 'env' as const } : {}) },
      timeoutMs,
    };
  }
  if (name !== 'builtin') return { provider: 'builtin', problem: `unknown COPILOT_PROVIDER "${name.slice(0, 40)}"` };
  return { provider: 'builtin' };
}
