/**
 * What the palette offers and the step (or trigger) each item makes: the control steps,
 * the trigger types, and one item per connector action from `GET /api/connectors`.
 */
import { successors } from '../../../../worker/src/workflows/step-graph.ts';
import type { EditorFile, EditorStep } from './draft.svelte.ts';

export interface ConnectorAction {
  name: string;
  description: string;
  inputs: JsonSchema;
  outputs: JsonSchema;
}

export interface ConnectorInfo {
  code: string;
  name: string;
  description: string;
  secrets: string[];
  actions: ConnectorAction[];
}

/** The part of JSON Schema the node form reads. */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  format?: string;
  minimum?: number;
  maximum?: number;
}

export type PaletteItem =
  | { kind: 'trigger'; label: string; description: string; trigger: EditorFile['trigger'] }
  | { kind: 'step'; label: string; description: string; type: string; connector?: string; action?: string };

export const TRIGGER_ITEMS: PaletteItem[] = [
  {
    kind: 'trigger',
    label: 'Webhook (Standard Webhooks)',
    description: 'A signed POST to the workflow URL, verified as Standard Webhooks (Svix, Resend, …)',
    trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: '' } } },
  },
  {
    kind: 'trigger',
    label: 'Webhook (Stripe)',
    description: 'A POST signed with Stripe-Signature',
    trigger: { type: 'webhook', verify: { scheme: 'stripe', secret: { $secret: '' } } },
  },
  {
    kind: 'trigger',
    label: 'Webhook (GitHub)',
    description: 'A POST signed with X-Hub-Signature-256',
    trigger: { type: 'webhook', verify: { scheme: 'github', secret: { $secret: '' } } },
  },
  {
    kind: 'trigger',
    label: 'Webhook (unsigned)',
    description: 'Any POST to the URL; only for senders that cannot sign',
    trigger: { type: 'webhook', verify: { scheme: 'none' } },
  },
  {
    kind: 'trigger',
    label: 'Schedule',
    description: 'Runs on a cron schedule, e.g. every day at 09:00',
    trigger: { type: 'schedule', cron: '0 9 * * *', timezone: 'UTC' },
  },
  {
    kind: 'trigger',
    label: 'API call',
    description: 'Started by POST /api/workflows/<key>/runs with a token, or from the studio',
    trigger: { type: 'api' },
  },
];

export const CONTROL_ITEMS: PaletteItem[] = [
  { kind: 'step', type: 'condition', label: 'Condition', description: 'A JSONLogic rule: then or else' },
  { kind: 'step', type: 'branch', label: 'Branch', description: 'Picks a path by a value, one case per path' },
  { kind: 'step', type: 'transform', label: 'Transform', description: 'Builds an output object from templates' },
  { kind: 'step', type: 'delay', label: 'Delay', description: 'Waits a while, or until a time' },
];

export function actionItems(connectors: ConnectorInfo[]): { connector: ConnectorInfo; items: PaletteItem[] }[] {
  return connectors.map((connector) => ({
    connector,
    items: connector.actions.map((a) => ({
      kind: 'step' as const,
      type: 'action',
      connector: connector.code,
      action: a.name,
      label: `${connector.name}: ${a.name}`,
      description: a.description,
    })),
  }));
}

/** `create_order`, `create_order_2`, … : the first id the file does not use yet. */
export function freshId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  const clean = base.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z_]/, '_$&') || 'step';
  if (!used.has(clean)) return clean;
  for (let i = 2; ; i++) if (!used.has(`${clean}_${i}`)) return `${clean}_${i}`;
}

/** A new step for a palette item: the smallest thing the schema accepts, or close to it. */
export function newStep(item: Extract<PaletteItem, { kind: 'step' }>, taken: Iterable<string>): EditorStep {
  const id = freshId(item.action ?? item.type, taken);
  switch (item.type) {
    case 'condition':
      return { id, type: 'condition', rule: { '==': [{ var: 'trigger.body' }, null] }, then: null, else: null };
    case 'branch':
      return {
        id,
        type: 'branch',
        value: '{{ trigger.body.type }}',
        cases: [{ equals: 'a', next: null }],
        default: null,
      };
    case 'transform':
      return { id, type: 'transform', output: {}, next: null };
    case 'delay':
      return { id, type: 'delay', delayMs: 60_000, next: null };
    default:
      return { id, type: 'action', connector: item.connector, action: item.action, params: {}, next: null };
  }
}

/**
 * Output paths a template in `stepId` may read: the trigger's, `vars`, and every step that
 * can run before it (with its action's declared output fields).
 */
export function templatePaths(file: EditorFile, stepId: string | null, connectors: ConnectorInfo[]): string[] {
  const paths = ['trigger.body', 'trigger.headers', 'trigger.query', 'run.id'];
  for (const name of Object.keys((file.vars as Record<string, unknown> | undefined) ?? {})) paths.push(`vars.${name}`);
  const before = stepId ? upstream(file, stepId) : new Set(file.steps.map((s) => s.id));
  for (const step of file.steps) {
    if (!before.has(step.id)) continue;
    paths.push(`steps.${step.id}.output`);
    if (step.type === 'action') {
      const action = connectors.find((c) => c.code === step.connector)?.actions.find((a) => a.name === step.action);
      for (const field of Object.keys(action?.outputs.properties ?? {})) paths.push(`steps.${step.id}.output.${field}`);
    }
  }
  for (const name of Object.keys(file.steps.find((s) => s.id === stepId)?.secrets ?? {})) paths.push(`secrets.${name}`);
  return paths;
}

/** Steps from which some path leads to `stepId`. */
function upstream(file: EditorFile, stepId: string): Set<string> {
  const preds = new Map<string, string[]>();
  for (const s of file.steps) {
    for (const t of successors(s)) if (typeof t === 'string') preds.set(t, [...(preds.get(t) ?? []), s.id]);
  }
  const seen = new Set<string>();
  const walk = (id: string) => {
    for (const p of preds.get(id) ?? []) {
      if (seen.has(p)) continue;
      seen.add(p);
      walk(p);
    }
  };
  walk(stepId);
  seen.delete(stepId);
  return seen;
}
