/**
 * A chat-completions API (OpenAI, or anything that speaks its protocol: a local
 * Ollama or vLLM, a gateway). The key arrives resolved from a secret reference; it is
 * sent in the Authorization header only, never logged, and never put in a note (some
 * APIs echo part of the key in their error bodies, so those bodies are not read).
 */
import { modelMessages, parseModelJson } from './model-prompt';
import { type DraftProvider, ProviderError } from './provider';

export interface OpenAiConfig {
  baseUrl: string;
  model: string;
  apiKey: string;
  fetch?: typeof fetch;
}

export function openAiCompatibleProvider(config: OpenAiConfig): DraftProvider {
  const doFetch = config.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return {
    name: 'openai',
    async draft(request, signal) {
      let res: Response;
      try {
        res = await doFetch(`${config.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey}` },
          body: JSON.stringify({
            model: config.model,
            messages: modelMessages(request),
            response_format: { type: 'json_object' },
            temperature: 0,
          }),
          signal,
        });
      } catch (e) {
        if (signal.aborted) throw new ProviderError('the model did not answer in time', 'timeout');
        throw new ProviderError(`could not reach the model API (${(e as Error).name})`, 'unavailable');
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw new ProviderError(`the model API answered HTTP ${res.status}`, 'unavailable');
      }
      let content: unknown;
      try {
        const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
        content = body.choices?.[0]?.message?.content;
      } catch {
        if (signal.aborted) throw new ProviderError('the model did not answer in time', 'timeout');
        throw new ProviderError('the model API answered something that is not JSON', 'bad_response');
      }
      if (typeof content !== 'string') throw new ProviderError('the model gave no message content', 'bad_response');
      let parsed: unknown;
      try {
        parsed = parseModelJson(content);
      } catch {
        throw new ProviderError('the model answered with malformed JSON', 'bad_response');
      }
      const notes = (parsed as { notes?: unknown })?.notes;
      return {
        workflow: parsed,
        notes: Array.isArray(notes) ? notes.filter((n): n is string => typeof n === 'string').slice(0, 20) : [],
      };
    },
  };
}
