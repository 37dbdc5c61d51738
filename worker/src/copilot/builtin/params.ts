/**
 * Params for a drafted action step from its input JSON Schema: what the sentence says
 * (a URL, a #channel, quoted text), else a template from the trigger where the names
 * match, else a placeholder the notes name. Secrets become references, never values.
 */
import type { CatalogEntry } from '../../../../connectors';
import type { SecretRef } from '../../workflows/workflow-file';

export interface ParamContext {
  clause: string;
  /** The whole prompt, for context such as "customer". */
  prompt: string;
  triggerType: 'webhook' | 'api' | 'schedule' | 'manual';
  /** What the event is about ("order", "payment"), for message text. */
  subject: string;
  stepId: string;
}

export interface FilledParams {
  params: Record<string, unknown>;
  secrets?: Record<string, SecretRef>;
  vars: Record<string, unknown>;
  notes: string[];
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  anyOf?: JsonSchema[];
}

const TEXT_FIELDS = /^(text|message|body|content|subject|title|summary|description|note|comment|msg)$/;

function quoted(clause: string): string | undefined {
  const m = /'([^']{2,})'|"([^"]{2,})"|\bsaying\s+(.+)$|\bwith the (?:text|message)\s+(.+)$/i.exec(clause);
  return (m?.[1] ?? m?.[2] ?? m?.[3] ?? m?.[4])?.trim();
}

function fromTrigger(ctx: ParamContext, path: string): string {
  return ctx.triggerType === 'schedule' ? `{{ vars.${path.replace(/\W/g, '_')} }}` : `{{ trigger.body.${path} }}`;
}

function messageText(ctx: ParamContext): string {
  const said = quoted(ctx.clause);
  if (said) return said;
  const subject = ctx.subject.charAt(0).toUpperCase() + ctx.subject.slice(1);
  if (ctx.triggerType === 'schedule') return `${subject} (scheduled run {{ run.startedAt }})`;
  return `${subject} {{ trigger.body.id }}`;
}

function channel(ctx: ParamContext, notes: string[]): string {
  const tagged = /#([\w-]+)/.exec(ctx.clause);
  if (tagged) return `#${tagged[1].toLowerCase()}`;
  const named = /\b(?:the\s+)?([a-z][a-z0-9-]*)\s+(?:team|channel|room)\b/i.exec(ctx.clause);
  if (named && !/^(slack|a|an|our|my|the|that|this)$/i.test(named[1])) return `#${named[1].toLowerCase()}`;
  const team =
    /\b(?:notify|tell|alert|ping|message|inform|to|in)\s+(?:the\s+)?([a-z][a-z0-9-]*)\s+(?:team|channel|on|in|via)\b/i.exec(
      ctx.clause,
    );
  if (team && !/^(slack|a|an|our|my)$/i.test(team[1])) return `#${team[1].toLowerCase()}`;
  const direct = /\b(?:notify|tell|alert|ping)\s+([a-z][a-z0-9-]*)\b/i.exec(ctx.clause);
  if (
    direct &&
    /^(sales|support|ops|finance|billing|marketing|engineering|dev|devs|team|accounting|management|hr|legal|product|success)$/i.test(
      direct[1],
    )
  )
    return `#${direct[1].toLowerCase()}`;
  notes.push(`Step "${ctx.stepId}": no channel named; used #general: change it.`);
  return '#general';
}

/** The tenant secret a connector's declared secret name points at: ERP_API_KEY for legacy_erp's API_KEY. */
export function secretKeyFor(connectorCode: string, name: string): string {
  const parts = connectorCode.toUpperCase().split('_');
  if (name.startsWith(`${parts[parts.length - 1]}_`) || name.startsWith(`${parts.join('_')}_`)) return name;
  return `${parts[parts.length - 1]}_${name}`.slice(0, 64);
}

function typeOf(s: JsonSchema | undefined): string | undefined {
  if (!s) return undefined;
  if (Array.isArray(s.type)) return s.type[0];
  return s.type ?? s.anyOf?.map((a) => typeOf(a)).find(Boolean);
}

export function fillParams(
  connector: CatalogEntry,
  action: CatalogEntry['actions'][number],
  ctx: ParamContext,
): FilledParams {
  const schema = action.inputs as JsonSchema;
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const params: Record<string, unknown> = {};
  const vars: Record<string, unknown> = {};
  const notes: string[] = [];
  const guessed: string[] = [];
  const customer = /\b(customer|buyer|client|them|they|him|her|user|lead|contact|signup)\b/i.test(ctx.clause);
  const url = /https?:\/\/[^\s,;'")]+/.exec(ctx.clause)?.[0].replace(/[.]$/, '');

  for (const [name, prop] of Object.entries(props)) {
    const lname = name.toLowerCase();
    const isUrl = /(^|_)(url|endpoint|webhook)$/.test(lname);
    const isMethod = lname === 'method' && prop.enum;
    if (isMethod) {
      const said = /\b(GET|POST|PUT|PATCH|DELETE)\b/.exec(ctx.clause)?.[1];
      const method =
        said ?? (ctx.triggerType === 'schedule' && !/\b(post|send|push|upload)\b/i.test(ctx.clause) ? 'GET' : 'POST');
      params[name] = method;
      if (method !== 'GET' && method !== 'HEAD' && props.json && ctx.triggerType !== 'schedule')
        params.json = '{{ trigger.body }}';
      continue;
    }
    if (!required.has(name) && !(isUrl && url)) continue;
    if (isUrl) {
      if (url) params[name] = url;
      else {
        const v = `${ctx.stepId}_url`;
        vars[v] = 'https://example.com/replace-me';
        params[name] = `{{ vars.${v} }}`;
        notes.push(`Step "${ctx.stepId}": set vars.${v} to the URL to call.`);
      }
    } else if (lname === 'channel') params[name] = channel(ctx, notes);
    else if (TEXT_FIELDS.test(lname))
      params[name] = lname === 'subject' || lname === 'title' ? messageText({ ...ctx, clause: '' }) : messageText(ctx);
    else if (/^(to|email|recipient|email_address|recipients?)$/.test(lname)) {
      const address = /[\w.+-]+@[\w-]+(\.[\w-]+)+/.exec(ctx.clause)?.[0];
      if (address) params[name] = address;
      else {
        params[name] = fromTrigger(ctx, customer || /customer/i.test(ctx.prompt) ? 'customer.email' : 'email');
        guessed.push(String(params[name]));
      }
    } else if (/_id$/.test(lname)) {
      params[name] = fromTrigger(ctx, `${lname.slice(0, -3)}.id`);
      guessed.push(String(params[name]));
    } else if (prop.enum?.length) params[name] = prop.default ?? prop.enum[0];
    else if (prop.default !== undefined) params[name] = prop.default;
    else {
      params[name] = fromTrigger(ctx, lname);
      guessed.push(String(params[name]));
    }
    if (typeOf(prop) === 'number' || typeOf(prop) === 'integer') {
      if (typeof params[name] === 'string' && !String(params[name]).startsWith('{{')) params[name] = 0;
    }
  }
  if (guessed.length)
    notes.push(`Step "${ctx.stepId}": assumed ${guessed.join(', ')}: check these against your payload.`);
  for (const v of Object.keys(vars)) if (ctx.triggerType === 'schedule' && !v.endsWith('_url')) vars[v] = 'replace-me';
  if (ctx.triggerType === 'schedule') {
    for (const value of Object.values(params)) {
      const m = typeof value === 'string' ? /^\{\{ vars\.(\w+) \}\}$/.exec(value) : null;
      if (m && !(m[1] in vars)) {
        vars[m[1]] = 'replace-me';
        notes.push(`Step "${ctx.stepId}": a schedule has no event payload: set vars.${m[1]}.`);
      }
    }
  }
  let secrets: Record<string, SecretRef> | undefined;
  if (connector.secrets.length) {
    secrets = {};
    for (const s of connector.secrets) {
      const key = secretKeyFor(connector.code, s);
      secrets[s] = { $secret: key };
    }
  }
  return { params, secrets, vars, notes };
}
