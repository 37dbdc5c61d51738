/**
 * The workflow file (docs/workflow-file.md): one zod schema validates imports, saves and
 * publishes, documents them in OpenAPI and types the engine. Objects are strict so a
 * typo (`paramz`) is an error naming its path, not a silently ignored field.
 */
import { z } from 'zod';
import { cronProblem, isTimeZone } from '../triggers/cron';
import { depthMessage, tooDeepPath } from '../lib/json-limits';
import { checkTemplateReferences } from './template-references';
import { stepExits } from './step-graph';

export const SECRET_KEY_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

export const SecretRef = z.strictObject({
  $secret: z.string().regex(SECRET_KEY_PATTERN, 'secret keys are UPPER_SNAKE_CASE, e.g. ERP_API_KEY'),
  backend: z.enum(['stored', 'env']).optional(),
});
export type SecretRef = z.infer<typeof SecretRef>;

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'use lowercase letters, digits, "_" or "-" (max 64)');
const StepId = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'step ids are letters, digits and "_" (max 64)');
const Next = StepId.nullable().optional();
// Bodies arrive through JSON.parse, so any value is JSON already; z.json()'s recursive
// schema would also send the OpenAPI generator into endless recursion. How deep free JSON
// may nest is checked on the whole file (`Workflow` below).
const Json = z.unknown();

/** The longest a delay may wait, given as `delayMs` or as `until` (delay-check.ts, run-state.ts). */
export const MAX_DELAY_MS = 30 * 86_400_000;

export const RetryPolicy = z.strictObject({
  maxAttempts: z.int().min(1).max(20),
  backoff: z.enum(['constant', 'linear', 'exponential']).default('exponential'),
  initialDelayMs: z.int().min(0).max(3_600_000).default(1000),
  maxDelayMs: z.int().min(0).max(86_400_000).optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

// Checked by the same library that computes fire times, so what publishes is what fires.
const Cron = z
  .string()
  .max(200)
  .superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const TimeZone = z.string().max(64).refine(isTimeZone, 'an IANA time zone, e.g. "Europe/Berlin" or "UTC"');

export const Verify = z.discriminatedUnion('scheme', [
  z.strictObject({ scheme: z.enum(['standard-webhooks', 'stripe', 'github']), secret: SecretRef }),
  z.strictObject({ scheme: z.literal('none') }),
]);

export const Trigger = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), verify: Verify }),
  z.strictObject({ type: z.literal('api') }),
  z.strictObject({
    type: z.literal('schedule'),
    cron: Cron,
    timezone: TimeZone.optional(),
    payload: Json.optional(),
  }),
  z.strictObject({ type: z.literal('manual') }),
]);
export type Trigger = z.infer<typeof Trigger>;

const base = { id: StepId, name: z.string().max(200).optional(), description: z.string().max(2000).optional() };

export const ActionStep = z.strictObject({
  ...base,
  type: z.literal('action'),
  connector: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'connector codes are lowercase snake_case'),
  action: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'action names are lowercase snake_case'),
  params: z.record(z.string(), Json).optional(),
  secrets: z.record(z.string().regex(SECRET_KEY_PATTERN, 'names are UPPER_SNAKE_CASE'), SecretRef).optional(),
  retry: RetryPolicy.optional(),
  next: Next,
});

export const ConditionStep = z.strictObject({
  ...base,
  type: z.literal('condition'),
  /** JSONLogic. */
  rule: z.union([z.record(z.string(), Json), z.boolean()]),
  then: Next,
  else: Next,
});

export const DelayStep = z
  .strictObject({
    ...base,
    type: z.literal('delay'),
    /** Wait this long (max 30 days)... */
    delayMs: z.int().min(0).max(MAX_DELAY_MS).optional(),
    /**
     * ...or until this time (ISO 8601, at most 30 days ahead; templates allowed). Checked
     * at publish (delay-check.ts), not here: "ahead" depends on when, and the engine
     * parses the file again while the run waits.
     */
    until: z.string().max(1000).optional(),
    next: Next,
  })
  .refine((s) => (s.delayMs === undefined) !== (s.until === undefined), {
    message: 'give exactly one of delayMs or until',
    path: ['delayMs'],
  });

export const BranchStep = z.strictObject({
  ...base,
  type: z.literal('branch'),
  /** A template whose value picks the case, e.g. "{{ trigger.body.country }}". */
  value: Json,
  cases: z
    .array(z.strictObject({ equals: Json, next: Next }))
    .min(1)
    .max(100),
  default: Next,
});

export const TransformStep = z.strictObject({
  ...base,
  type: z.literal('transform'),
  /** Templates are resolved; the result is the step's output. */
  output: Json,
  next: Next,
});

// Discriminated by `type`, so an error inside a step names the field, not just the step.
export const Step = z.discriminatedUnion('type', [ActionStep, ConditionStep, DelayStep, BranchStep, TransformStep]);
export type Step = z.infer<typeof Step>;
export type ActionStep = z.infer<typeof ActionStep>;

const SECRET_TEMPLATE = /\{\{\s*secrets\.([A-Za-z0-9_]+)\s*\}\}/g;

function findSecretTemplates(
  value: unknown,
  path: (string | number)[],
  out: { path: (string | number)[]; name: string }[],
) {
  if (typeof value === 'string') {
    for (const m of value.matchAll(SECRET_TEMPLATE)) out.push({ path, name: m[1] });
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) findSecretTemplates(v, [...path, i], out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) findSecretTemplates(v, [...path, k], out);
  }
}

const WorkflowShape = z.strictObject({
  $schema: z.string().optional(),
  key: Slug,
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'var names are identifiers'), Json).optional(),
  trigger: Trigger,
  steps: z.array(Step).min(1).max(200),
  /** Studio layout (node positions); never read by the engine. */
  ui: z.record(z.string(), Json).optional(),
});

/**
 * A file as published: what the engine re-reads for every run. Rules added to `Workflow`
 * later are not applied here, so a version published before them keeps running.
 */
export const PublishedWorkflow = WorkflowShape.superRefine((wf, ctx) => {
  const ids = new Map<string, number>();
  wf.steps.forEach((s, i) => {
    if (ids.has(s.id))
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id "${s.id}"` });
    ids.set(s.id, i);
  });
  wf.steps.forEach((s, i) => {
    for (const { field, target } of stepExits(s)) {
      if (target && !ids.has(target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, ...field],
          message: `no step with id "${target}"`,
        });
      }
    }
    if (s.type === 'action') {
      // A step may read only the secrets it declares, so the declaration is the whole story.
      const found: { path: (string | number)[]; name: string }[] = [];
      findSecretTemplates(s.params ?? {}, ['steps', i, 'params'], found);
      for (const f of found) {
        if (!s.secrets?.[f.name])
          ctx.addIssue({
            code: 'custom',
            path: f.path,
            message: `uses secrets.${f.name} but the step does not declare it under "secrets"`,
          });
      }
    }
  });
  // Runs are finite: a path may not loop back on itself. Report the edge that closes the loop.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string) => {
    state.set(id, 'visiting');
    const i = ids.get(id)!;
    for (const { field, target } of stepExits(wf.steps[i])) {
      if (!target || !ids.has(target)) continue;
      if (state.get(target) === 'visiting') {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, ...field],
          message: `goes back to "${target}": workflows may not loop`,
        });
      } else if (!state.has(target)) visit(target);
    }
    state.set(id, 'done');
  };
  for (const s of wf.steps) if (!state.has(s.id)) visit(s.id);
});
/** What import, save, publish and activate accept. */
/**
 * What import, save, publish and activate accept: the file within the one nesting limit
 * (lib/json-limits.ts, counted from the file's root, as for the request body it arrives
 * in), and every template able to resolve. A file past the limit is not walked further.
 */
export const Workflow = PublishedWorkflow.superRefine((wf, ctx) => {
  const path = tooDeepPath(wf);
  if (path) ctx.addIssue({ code: 'custom', path, message: depthMessage(), continue: false });
}).superRefine(checkTemplateReferences);
export type Workflow = z.infer<typeof Workflow>;
