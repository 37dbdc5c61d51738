/**
 * An ExecutionContext for connector tests: fresh run and idempotency key per call,
 * no secrets, no settings and, as in production, no private network.
 */
import type { RunActionContext } from '../sdk';

/**
 * @example
 * ```ts
 * await runAction('legacy_erp', 'create_order', params, testContext({
 *   secrets: { API_KEY: 'erp-test-key' },
 *   settings: { URL: `${stubUrl()}/erp/soap` },
 * }));
 * ```
 */
export function testContext(overrides: Partial<RunActionContext> = {}): RunActionContext {
  const runId = `run-${crypto.randomUUID()}`;
  return {
    tenantId: 'tenant-test',
    runId,
    stepId: 'step_1',
    attempt: 1,
    idempotencyKey: `${runId}:step_1`,
    secrets: {},
    settings: {},
    allowPrivateNetwork: false,
    ...overrides,
  };
}
