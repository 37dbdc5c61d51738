/**
 * One draft: the built-in parser always runs (it is the fallback and costs nothing);
 * a configured model then gets the prompt, and its answer is used only once repaired
 * into a valid workflow. Notes end with what the user must still do about secrets.
 */
import { catalog as readCatalog } from '../../../connectors';
import type { Db } from '../db/client';
import type { Env } from '../env';
import { createSecretResolver, type TenantRef } from '../secrets/resolver';
import { SecretError } from '../secrets/secret-error';
import { findSecretReferences } from '../secrets/references';
import { listStoredSecrets } from '../secrets/secret-store';
import type { Workflow } from '../workflows/workflow-file';
import { draftFromPrompt } from './builtin/builtin-provider';
import { type CopilotConfig, copilotConfig } from './config';
import { layoutLeftToRight } from './layout';
import { openAiCompatibleProvider } from './openai-compatible';
import { type DraftProvider, type DraftRequest, ProviderError } from './provider';
import { repairWorkflow } from './repair';
import { workersAiProvider } from './workers-ai';

export interface DraftInput {
  prompt: string;
  workflow?: Workflow;
}

export interface DraftOutcome {
  workflow: Workflow;
  notes: string[];
  /** The provider whose draft is returned. */
  provider: string;
  /** `ok`, or why the built-in draft stood in for the configured model's. */
  outcome:
    | 'ok'
    | 'fallback:timeout'
    | 'fallback:unavailable'
    | 'fallback:bad_response'
    | 'fallback:unrepairable'
    | 'fallback:config';
}

export interface DraftDeps {
  env: Env;
  db: Db;
  tenant: TenantRef;
  /** Outbound fetch for the OpenAI-compatible provider (tests pass the stub's). */
  fetch?: typeof fetch;
}

async function modelProvider(config: CopilotConfig, deps: DraftDeps): Promise<DraftProvider | undefined> {
  if (config.provider === 'workers-ai' && deps.env.AI) return workersAiProvider(deps.env.AI, config.model);
  if (config.provider === 'openai') {
    let apiKey: string;
    try {
      const resolved = await createSecretResolver(deps.env, deps.db).resolveForStep(
        deps.tenant,
        { API_KEY: config.key },
        { stepId: 'copilot' },
      );
      apiKey = resolved.values.API_KEY;
    } catch (e) {
      if (e instanceof SecretError)
        throw new ProviderError(
          `the model API key secret ${config.key.$secret} is not available (${e.code})`,
          'config',
        );
      throw e;
    }
    return openAiCompatibleProvider({ baseUrl: config.baseUrl, model: config.model, apiKey, fetch: deps.fetch });
  }
  return undefined;
}

/** Names of the secrets the draft refers to that the tenant has not created yet. */
async function secretNotes(deps: DraftDeps, wf: Workflow): Promise<string[]> {
  const refs = findSecretReferences(wf);
  if (!refs.length) return [];
  const stored = new Set((await listStoredSecrets(deps.db, deps.tenant.id)).map((s) => s.key));
  const notes: string[] = [];
  for (const key of [...new Set(refs.map((r) => `${r.backend}:${r.key}`))]) {
    const [backend, name] = key.split(':');
    if (backend === 'env')
      notes.push(`Uses the Worker variable AUTOMATE_${name}: ask your operator to set and grant it.`);
    else if (stored.has(name)) notes.push(`Uses your existing secret ${name}.`);
    else notes.push(`Create the secret ${name} (Settings → Secrets) before publishing.`);
  }
  return notes;
}

export async function draftWorkflow(input: DraftInput, deps: DraftDeps): Promise<DraftOutcome> {
  const request: DraftRequest = { prompt: input.prompt, workflow: input.workflow, catalog: readCatalog() };
  const builtin = draftFromPrompt(request);
  const fallback = input.workflow ?? (builtin.workflow as Workflow);
  const repairedBuiltin = repairWorkflow(builtin.workflow, request.catalog, fallback);
  if (!repairedBuiltin) throw new Error('the built-in draft failed its own schema');
  let result: Omit<DraftOutcome, 'workflow'> & { workflow: Workflow } = {
    workflow: repairedBuiltin.workflow,
    notes: [...builtin.notes, ...repairedBuiltin.notes],
    provider: 'builtin',
    outcome: 'ok',
  };

  const config = copilotConfig(deps.env);
  if (config.provider === 'builtin' && config.problem) {
    result.notes.unshift(`Drafted with the built-in provider: ${config.problem}.`);
    result.outcome = 'fallback:config';
  }
  if (config.provider !== 'builtin') {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.timeoutMs);
    try {
      const provider = await modelProvider(config, deps);
      if (provider) {
        const answer = await provider.draft(request, controller.signal);
        const repaired = repairWorkflow(answer.workflow, request.catalog, repairedBuiltin.workflow);
        if (repaired) {
          result = {
            workflow: repaired.workflow,
            notes: [...answer.notes, ...repaired.notes],
            provider: provider.name,
            outcome: 'ok',
          };
        } else {
          result.notes.unshift(
            `The ${provider.name} model's draft could not be made valid: this is the built-in draft.`,
          );
          result.outcome = 'fallback:unrepairable';
        }
      }
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      result.notes.unshift(
        `The ${config.provider} model could not draft this (${e.message}): this is the built-in draft.`,
      );
      result.outcome = `fallback:${e.reason}`;
    } finally {
      clearTimeout(timer);
    }
  }
  const workflow = layoutLeftToRight(result.workflow);
  const notes = [...new Set([...result.notes, ...(await secretNotes(deps, workflow))])];
  return { ...result, workflow, notes };
}
