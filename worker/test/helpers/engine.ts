/** Engine test helpers: reach a run's object, replay its queue messages, small workflow files. */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:test';
import worker from '../../src/index';
import type { RunView } from '../../src/run/run-coordinator';
import { resendMessage } from '../../src/run/run-state';
import { runStub } from '../../src/triggers/start-run';
import type { StepMessage } from '../../src/run/step-message';
import { Workflow } from '../../src/workflows/workflow-file';
import { call } from './api';

export function runObject(runId: string) {
  return runStub(env, runId);
}

/** The queue message of a step's latest attempt, exactly as the run object sends it. */
export async function messageFor(runId: string, stepId: string): Promise<StepMessage> {
  const view = (await runObject(runId).snapshot()) as unknown as RunView | null;
  if (!view) throw new Error(`run ${runId} has no state`);
  return resendMessage(view.state, view.outputs, Workflow.parse(view.state.definition), view.state.steps[stepId]);
}

/** Delivers messages to the Worker's queue handler as the Queue would, and returns the ack/retry result. */
export async function deliver(queue: string, bodies: StepMessage[], attempts = 1) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await (worker.queue as ExportedHandlerQueueHandler<typeof env>)(batch as MessageBatch<unknown>, env, ctx);
  return { batch, result: await getQueueResult(batch, ctx) };
}

export const http = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'action',
  connector: 'http',
  action: 'request',
  params: { method: 'POST', url, json: { run: '{{ run.id }}' } },
  ...extra,
});

export const apiFlow = (key: string, steps: unknown[]) => ({ key, name: key, trigger: { type: 'api' }, steps });

/**
 * The Explorer's list once it holds `n` runs: a run's row is written by its object just
 * after the trigger is acknowledged (the object's own storage is the record before that).
 */
export async function listedRuns(query: string, n: number, token: string, timeoutMs = 5_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call('GET', `/api/runs?${query}`, { token });
    if (res.json.runs?.length >= n || Date.now() > deadline) return res.json.runs;
    await new Promise((r) => setTimeout(r, 25));
  }
}
