/**
 * A dry run: the real state machine walks the workflow with a sample payload, but no
 * connector is called (each action "succeeds" with a null output) and delays do not
 * wait. It reports the path taken and the params each action would get, secrets masked.
 */
import { applyResult, claim, initState, pump, wake, type RunStatus, type StepStatus } from './run-state';
import { maskSecrets } from './secret-markers';

export interface DryRunReport {
  status: RunStatus;
  path: string[];
  steps: {
    id: string;
    type: string;
    status: StepStatus;
    input?: unknown;
    output?: unknown;
    error?: string;
    wouldCall?: { connector: string; action: string; params: unknown };
  }[];
  notes: string[];
}

export function dryRun(
  definition: unknown,
  payload: unknown,
  ctx: { tenant: { id: string; slug: string }; key: string; version: number },
): DryRunReport {
  const now = Date.now();
  const { state, outputs, wf } = initState(
    {
      runId: 'dry-run',
      tenant: ctx.tenant,
      workflow: { id: 'dry-run', key: ctx.key, version: ctx.version },
      definition,
      trigger: { type: 'test', body: payload ?? null, headers: {}, query: {} },
      createdAt: now,
    },
    now,
  );
  const calls = new Map<string, { connector: string; action: string; params: unknown }>();
  for (let i = 0; i < 1000 && state.status === 'running'; i++) {
    const { messages } = pump(state, outputs, wf, now);
    for (const m of messages) {
      calls.set(m.stepId, { connector: m.connector, action: m.action, params: maskSecrets(m.params, m.secretNonce) });
      claim(state, m.attemptId, now);
      applyResult(state, outputs, wf, m.attemptId, { ok: true, output: null, startedAt: now, finishedAt: now }, now);
    }
    if (!messages.length) {
      const waiting = Object.values(state.steps).some((s) => s.status === 'waiting');
      if (!waiting) break;
      wake(state, outputs, wf, Number.MAX_SAFE_INTEGER);
    }
  }
  const ordered = Object.values(state.steps).sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
  return {
    status: state.status,
    path: ordered.filter((s) => s.status === 'succeeded' || s.status === 'failed').map((s) => s.id),
    steps: ordered.map((s) => ({
      id: s.id,
      type: s.type,
      status: s.status,
      ...(s.type !== 'action' && s.input !== undefined ? { input: s.input } : {}),
      ...(s.type !== 'action' && s.id in outputs ? { output: outputs[s.id] } : {}),
      ...(s.error ? { error: s.error.message } : {}),
      ...(calls.has(s.id) ? { wouldCall: calls.get(s.id) } : {}),
    })),
    notes: [
      "No connector was called: actions report a null output, so later templates that read an action's output resolve to null.",
      'Delays were not waited.',
    ],
  };
}
