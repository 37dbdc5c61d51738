/**
 * Workers AI through the `AI` binding, asking for JSON output. The binding is absent
 * under `npm run dev` offline; the draft service then uses the built-in provider.
 */
import { modelMessages, parseModelJson } from './model-prompt';
import { type DraftProvider, ProviderError } from './provider';

/** The part of the Workers AI binding this provider uses. */
export interface AiBinding {
  run(model: string, inputs: Record<string, unknown>): Promise<unknown>;
}

export const DEFAULT_WORKERS_AI_MODEL = '@cf/meta/llama-3.3-70b-instruct-fp8-fast';

const ANSWER_SCHEMA = {
  type: 'object',
  properties: { workflow: { type: 'object' }, notes: { type: 'array', items: { type: 'string' } } },
  required: ['workflow'],
};

export function workersAiProvider(ai: AiBinding, model = DEFAULT_WORKERS_AI_MODEL): DraftProvider {
  return {
    name: 'workers-ai',
    async draft(request, signal) {
      // The binding takes no AbortSignal: race it against the deadline.
      const aborted = new Promise<never>((_, reject) => {
        const fail = () => reject(new ProviderError('the model did not answer in time', 'timeout'));
        if (signal.aborted) fail();
        else signal.addEventListener('abort', fail, { once: true });
      });
      let out: unknown;
      try {
        out = await Promise.race([
          ai.run(model, {
            messages: modelMessages(request),
            response_format: { type: 'json_schema', json_schema: ANSWER_SCHEMA },
            temperature: 0,
            max_tokens: 4096,
          }),
          aborted,
        ]);
      } catch (e) {
        if (e instanceof ProviderError) throw e;
        throw new ProviderError(`Workers AI failed (${(e as Error)?.name ?? 'error'})`, 'unavailable');
      }
      const response = (out as { response?: unknown })?.response;
      let parsed: unknown = response;
      if (typeof response === 'string') {
        try {
          parsed = parseModelJson(response);
        } catch {
          throw new ProviderError('the model answered with malformed JSON', 'bad_response');
        }
      }
      if (!parsed || typeof parsed !== 'object')
        throw new ProviderError('the model gave no JSON object', 'bad_response');
      const notes = (parsed as { notes?: unknown }).notes;
      return {
        workflow: parsed,
        notes: Array.isArray(notes) ? notes.filter((n): n is string => typeof n === 'string').slice(0, 20) : [],
      };
    },
  };
}
