/**
 * One interface for every way of drafting a workflow: the built-in parser (default,
 * offline, deterministic), Workers AI, or an OpenAI-compatible HTTP API. A provider
 * returns whatever it produced; the draft service validates and repairs it.
 */
import type { CatalogEntry } from '../../../connectors';
import type { Workflow } from '../workflows/workflow-file';

export interface DraftRequest {
  prompt: string;
  /** The draft to edit; absent to start over. */
  workflow?: Workflow;
  /** The tenant's connector catalog, read at request time. */
  catalog: CatalogEntry[];
}

export interface ProviderOutput {
  /** A workflow file as the provider produced it: not trusted until repaired. */
  workflow: unknown;
  notes: string[];
}

export interface DraftProvider {
  /** `builtin`, `workers-ai`, `openai`: recorded in the audit log. */
  readonly name: string;
  draft(request: DraftRequest, signal: AbortSignal): Promise<ProviderOutput>;
}

/** A provider that could not produce anything usable; the service falls back to the built-in draft. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly reason: 'timeout' | 'unavailable' | 'bad_response' | 'config',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}
