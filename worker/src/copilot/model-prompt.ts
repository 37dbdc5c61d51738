/**
 * What a model is told: the workflow file format, the tenant's catalog (codes, action
 * names, descriptions, input fields and the *names* of the secrets each connector
 * reads) and the draft being edited. Never a secret value: the catalog holds names
 * only and the draft was checked for hard-coded credentials before it got here.
 */
import type { DraftRequest } from './provider';

const FORMAT = `You turn a description of an automation into an Automate workflow file (JSON).
Answer with one JSON object: {"workflow": <workflow file>, "notes": [<short sentences: what you assumed, what the user must still do>]}.
Workflow file:
{"key": slug (a-z0-9_-), "name": string, "description"?: string, "vars"?: {name: value},
 "trigger": one of {"type":"webhook","verify":{"scheme":"standard-webhooks"|"stripe"|"github","secret":{"$secret":"UPPER_SNAKE_NAME"}}}
   | {"type":"api"} | {"type":"schedule","cron":"5-field cron","timezone"?:"IANA zone, e.g. Europe/Berlin (default UTC)"} | {"type":"manual"},
 "steps": [ first step is where a run starts; each step has "id" (letters, digits, _) and "type":
   {"type":"action","connector":code,"action":name,"params":{...},"secrets"?:{"NAME":{"$secret":"TENANT_SECRET_NAME"}},"next":id|null}
   {"type":"condition","rule":JSONLogic,"then":id|null,"else":id|null}
   {"type":"delay","delayMs":integer,"next":id|null}
   {"type":"transform","output":{...},"next":id|null} ]}
Rules: use only the connectors and actions listed below; secrets are always {"$secret": "NAME"} references, never values;
conditions are JSONLogic reading {"var": "trigger.body.<field>"}; params may use templates "{{ trigger.body.<field> }}" or
"{{ steps.<earlier step id>.output.<field> }}"; Stripe webhooks: amounts are in cents under trigger.body.data.object.amount;
Stripe webhooks use scheme "stripe", GitHub "github", every other source "standard-webhooks".`;

export function catalogSummary(request: DraftRequest): string {
  return request.catalog
    .map((c) => {
      const actions = c.actions
        .map((a) => {
          const schema = a.inputs as { properties?: Record<string, unknown>; required?: string[] };
          const fields = Object.keys(schema.properties ?? {})
            .map((f) => (schema.required?.includes(f) ? `${f}*` : f))
            .join(', ');
          return `  - ${a.name}: ${a.description} Inputs: ${fields || 'none'}`;
        })
        .join('\n');
      const secrets = c.secrets.length ? ` Reads secrets: ${c.secrets.join(', ')}.` : '';
      return `- ${c.code} (${c.name}): ${c.description}${secrets}\n${actions}`;
    })
    .join('\n');
}

export function modelMessages(request: DraftRequest): { role: 'system' | 'user'; content: string }[] {
  const system = `${FORMAT}\n\nConnectors (* = required input):\n${catalogSummary(request)}`;
  const user = request.workflow
    ? `Current draft:\n${JSON.stringify({ ...request.workflow, ui: undefined })}\n\nChange it: ${request.prompt}`
    : request.prompt;
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** A model's answer as JSON: the whole text, else the first {...} block (models like to wrap JSON in prose or fences). */
export function parseModelJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    if (start >= 0 && end > start) return JSON.parse(text.slice(start, end + 1));
    throw new SyntaxError('no JSON object in the answer');
  }
}
