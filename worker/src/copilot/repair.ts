/**
 * Whatever a model returned, made into a workflow file that passes the import schema
 * and uses only the tenant's catalog: unknown fields stripped, ids fixed, unknown
 * connectors and actions dropped (with a note), links re-pointed, loops cut. Returns
 * undefined when nothing usable is left, so the caller falls back to the built-in draft.
 */
import type { CatalogEntry } from '../../../connectors';
import { findHardcodedCredentials } from '../workflows/credential-scan';
import { SECRET_KEY_PATTERN, Trigger, Workflow } from '../workflows/workflow-file';
import { snake } from './builtin/text';

export interface Repaired {
  workflow: Workflow;
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

const STEP_FIELDS: Record<string, string[]> = {
  action: ['connector', 'action', 'params', 'secrets', 'retry', 'next'],
  condition: ['rule', 'then', 'else'],
  delay: ['delayMs', 'until', 'next'],
  branch: ['value', 'cases', 'default'],
  transform: ['output', 'next'],
};
const LINKS = ['next', 'then', 'else', 'default'];

function pick(o: Obj, keys: string[]): Obj {
  const out: Obj = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function secretsOf(raw: unknown, stepId: string, notes: string[]): Obj | undefined {
  if (!isObj(raw)) return undefined;
  const out: Obj = {};
  for (const [name, ref] of Object.entries(raw)) {
    const key = snake(name).toUpperCase();
    if (!SECRET_KEY_PATTERN.test(key)) continue;
    const target = isObj(ref) ? ref.$secret : ref;
    // A model may hand back a value where a reference belongs: keep only reference-shaped names.
    if (typeof target === 'string' && SECRET_KEY_PATTERN.test(target))
      out[key] = { $secret: target, ...(isObj(ref) && ref.backend === 'env' ? { backend: 'env' } : {}) };
    else notes.push(`Step "${stepId}": dropped secret "${key}", which was not a {"$secret": "NAME"} reference.`);
  }
  return Object.keys(out).length ? out : undefined;
}

function repairTrigger(raw: unknown, fallback: Workflow['trigger'], notes: string[]): Workflow['trigger'] {
  if (isObj(raw) && raw.type === 'webhook' && !isObj(raw.verify))
    raw = { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: 'WEBHOOK_SECRET' } } };
  if (isObj(raw) && raw.type === 'webhook' && isObj(raw.verify)) {
    const v = raw.verify;
    if (v.scheme !== 'none') {
      const secret = isObj(v.secret) ? v.secret.$secret : v.secret;
      raw = {
        type: 'webhook',
        verify: {
          scheme: ['standard-webhooks', 'stripe', 'github'].includes(String(v.scheme)) ? v.scheme : 'standard-webhooks',
          secret: {
            $secret: typeof secret === 'string' && SECRET_KEY_PATTERN.test(secret) ? secret : 'WEBHOOK_SECRET',
          },
        },
      };
    }
  }
  if (isObj(raw)) {
    const keys = {
      webhook: ['type', 'verify'],
      api: ['type'],
      schedule: ['type', 'cron', 'timezone', 'payload'],
      manual: ['type'],
    }[String(raw.type)];
    const parsed = keys ? Trigger.safeParse(pick(raw, keys)) : undefined;
    if (parsed?.success) return parsed.data;
  }
  notes.push('The model gave no valid trigger: used the one read from your prompt.');
  return fallback;
}

export function repairWorkflow(raw: unknown, catalog: CatalogEntry[], fallback: Workflow): Repaired | undefined {
  const notes: string[] = [];
  const candidate = isObj(raw) && isObj(raw.workflow) ? raw.workflow : raw;
  if (!isObj(candidate) || !Array.isArray(candidate.steps)) return undefined;
  const file: Obj = candidate;
  const rawSteps = (file.steps as unknown[]).filter(isObj).slice(0, 200);

  // Ids: valid and unique; remember renames so links follow.
  const rename = new Map<string, string>();
  const taken = new Set<string>();
  const steps: Obj[] = [];
  rawSteps.forEach((s, i) => {
    const type = String(s.type);
    if (!STEP_FIELDS[type]) {
      notes.push(`Dropped a step of unknown type "${type.slice(0, 40)}".`);
      return;
    }
    const wanted = typeof s.id === 'string' && s.id ? s.id : `step_${i + 1}`;
    let id = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(wanted) ? wanted : snake(wanted, 50);
    for (let n = 2; taken.has(id); n++) id = `${snake(wanted, 50)}_${n}`;
    taken.add(id);
    if (typeof s.id === 'string' && !rename.has(s.id)) rename.set(s.id, id);
    const step: Obj = { id, type, ...pick(s, ['name', 'description']), ...pick(s, STEP_FIELDS[type]) };
    if (typeof step.name !== 'string') delete step.name;
    if (typeof step.description !== 'string') delete step.description;
    if (type === 'action') {
      const connector = catalog.find((c) => c.code === s.connector);
      const action = connector?.actions.find((a) => a.name === s.action);
      if (!connector || !action) {
        notes.push(
          `Dropped step "${id}": ${connector ? `connector "${connector.code}" has no action "${String(s.action)}"` : `no connector "${String(s.connector)}" in your catalog`}.`,
        );
        // Its successors are still reachable through the predecessor (re-pointed below).
        rename.set(String(s.id), `__dropped__${String(s.next ?? '')}`);
        taken.delete(id);
        return;
      }
      if (!isObj(step.params)) delete step.params;
      const required = (action.inputs as { required?: string[] }).required ?? [];
      const missing = required.filter((r) => !isObj(step.params) || !(r in (step.params as Obj)));
      if (missing.length)
        notes.push(`Step "${id}": fill in ${missing.join(', ')} (required by ${connector.code}.${action.name}).`);
      const secrets = secretsOf(s.secrets, id, notes);
      if (secrets) step.secrets = secrets;
      else delete step.secrets;
      if (step.retry !== undefined && !isObj(step.retry)) delete step.retry;
    }
    if (type === 'condition' && !(isObj(step.rule) || typeof step.rule === 'boolean')) step.rule = true;
    if (type === 'delay') {
      if (typeof step.delayMs === 'number') {
        step.delayMs = Math.max(0, Math.min(30 * 86_400_000, Math.round(step.delayMs)));
        delete step.until;
      } else if (typeof step.until !== 'string') step.delayMs = 60_000;
    }
    steps.push(step);
  });
  // A draft that does nothing is no draft: the built-in one is better.
  if (!steps.some((s) => s.type === 'action')) return undefined;

  // Links: follow renames, skip dropped steps, null what points nowhere.
  const resolve = (target: unknown, depth = 0): string | null => {
    if (typeof target !== 'string' || depth > 200) return null;
    const to = rename.get(target) ?? target;
    if (to.startsWith('__dropped__')) return resolve(to.slice('__dropped__'.length) || null, depth + 1);
    return taken.has(to) ? to : null;
  };
  for (const s of steps) {
    for (const k of LINKS) if (k in s) s[k] = resolve(s[k]);
    if (s.type === 'branch') {
      s.cases = (Array.isArray(s.cases) ? s.cases : [])
        .filter(isObj)
        .map((c) => ({ equals: c.equals ?? null, next: resolve(c.next) }));
      if (!(s.cases as unknown[]).length) s.cases = [{ equals: null, next: null }];
    }
  }

  const wf: Obj = {
    key: typeof file.key === 'string' && /^[a-z0-9][a-z0-9_-]{0,63}$/.test(file.key) ? file.key : fallback.key,
    name: typeof file.name === 'string' && file.name.trim() ? file.name.slice(0, 200) : fallback.name,
    ...(typeof file.description === 'string' ? { description: file.description.slice(0, 5000) } : {}),
    ...(isObj(file.vars)
      ? { vars: Object.fromEntries(Object.entries(file.vars).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))) }
      : {}),
    trigger: repairTrigger(file.trigger, fallback.trigger, notes),
    steps,
  };

  // Whatever still fails: cut loops, then give up field by field.
  for (let attempt = 0; attempt < 20; attempt++) {
    const parsed = Workflow.safeParse(wf);
    if (parsed.success) {
      if (findHardcodedCredentials(parsed.data).length) return undefined;
      return { workflow: parsed.data, notes };
    }
    const loop = parsed.error.issues.find((i) => /may not loop/.test(i.message));
    // A param the schema refuses (a template naming a later step, an undeclared secret): drop that param.
    const param = parsed.error.issues.find((i) => i.path[0] === 'steps' && i.path[2] === 'params' && i.path.length > 3);
    if (!loop && param) {
      const step = steps[param.path[1] as number];
      const name = String(param.path[3]);
      delete (step.params as Obj)[name];
      notes.push(`Step "${String(step.id)}": dropped param "${name}" (${param.message}); fill it in.`);
      continue;
    }
    if (!loop) break;
    const [, index, ...field] = loop.path as (string | number)[];
    const step = steps[index as number];
    if (field[0] === 'cases') (step.cases as Obj[])[field[1] as number].next = null;
    else step[field[0] as string] = null;
    notes.push(`Cut a loop at step "${String(step.id)}".`);
  }
  return undefined;
}
