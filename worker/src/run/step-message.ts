/** What travels through the Queue: one action step attempt. Validated on receipt (zod at the edge). */
import { z } from 'zod';
import { SecretRef } from '../workflows/workflow-file';

export const StepMessage = z.object({
  v: z.literal(1),
  runId: z.string(),
  tenantId: z.string(),
  tenantSlug: z.string(),
  stepId: z.string(),
  attempt: z.int().min(1),
  /** Unique per attempt and the same on redelivery: the run object's dedup key. */
  attemptId: z.string(),
  connector: z.string(),
  action: z.string(),
  /** Rendered params; secrets are still markers (secret-markers.ts) for the consumer to fill. */
  params: z.record(z.string(), z.unknown()),
  secrets: z.record(z.string(), SecretRef),
  /** Stable for every attempt of this step in this run. */
  idempotencyKey: z.string(),
  secretNonce: z.string(),
  /** The attempt's time limit (ms), enforced by the consumer; absent in older messages: the default. */
  timeoutMs: z.int().min(1).optional(),
  /** Which send of this attempt's message this is: 1, then 2, 3... when the run object re-sends a lost one. */
  send: z.int().min(1).optional(),
});
export type StepMessage = z.infer<typeof StepMessage>;

export interface StepError {
  message: string;
  stack?: string;
  retryable: boolean;
  retryAfterMs?: number;
  status?: number;
  code?: string;
}

/** What the consumer reports back to the run object; already scrubbed of secret values. */
export type StepResult = ({ ok: true; output: unknown } | { ok: false; error: StepError }) & {
  startedAt: number;
  finishedAt: number;
};
