/**
 * What starts the run: a schedule in words, an API call, a manual run, or a webhook
 * from a named source (Stripe and GitHub sign their own way; everyone else is asked
 * for Standard Webhooks).
 */
import type { Trigger } from '../../workflows/workflow-file';
import { parseSchedule } from './schedule';
import { hasWord, sameWord, snake, words } from './text';
import { parseTimeZone } from './timezone';

export interface ParsedTrigger {
  trigger: Trigger;
  notes: string[];
  /** Where the event comes from, e.g. "stripe"; shapes field names (Stripe amounts are in cents). */
  source?: string;
  /** True when the prompt said what starts the run; false when it was assumed. */
  explicit: boolean;
}

/** Sources people name; the scheme is what they sign webhooks with. */
const SOURCES: Record<string, 'stripe' | 'github' | 'standard-webhooks'> = {
  stripe: 'stripe',
  github: 'github',
  shopify: 'standard-webhooks',
  woocommerce: 'standard-webhooks',
  typeform: 'standard-webhooks',
  hubspot: 'standard-webhooks',
  paypal: 'standard-webhooks',
  gitlab: 'standard-webhooks',
  twilio: 'standard-webhooks',
  zendesk: 'standard-webhooks',
  jira: 'standard-webhooks',
  intercom: 'standard-webhooks',
  calendly: 'standard-webhooks',
  mailchimp: 'standard-webhooks',
  salesforce: 'standard-webhooks',
  square: 'standard-webhooks',
  paddle: 'standard-webhooks',
  clerk: 'standard-webhooks',
  resend: 'standard-webhooks',
  svix: 'standard-webhooks',
};

const API_TRIGGER =
  /\b(via|through|over|from|using) (the |our |an? )?(rest )?api\b|\bapi (call|request|trigger)s?\b|\b(app|backend|service|server|system|code|script) calls?\b|\bcalled (from|by|via)\b|\bwhen (it'?s|it is) called\b|\bon (an? )?(api|http) (call|request)\b|\bcall(s|ed)? (the|our) (workflow|endpoint)\b|\bapi\b.*\b(calls?|hits?)\b|\b(when|whenever|once)\b[^,]*\b(posts?|sends?|submits?|calls?|hits?)\s+(?:\w+\s+)?(?:to\s+)?(?:the |our )?(?:rest )?api\b/;
const MANUAL_TRIGGER = /\bmanual(ly)?\b|\bby hand\b|\bwhen i (click|press|run)\b|\bon demand\b|\brun (it )?myself\b/;

function verifySecretName(source: string | undefined): string {
  return source ? `${snake(source).toUpperCase()}_WEBHOOK_SECRET` : 'WEBHOOK_SECRET';
}

export function parseTrigger(prompt: string): ParsedTrigger {
  const lower = prompt.toLowerCase();
  const schedule = parseSchedule(lower);
  if (schedule) {
    const timezone = parseTimeZone(prompt);
    return {
      trigger: { type: 'schedule', cron: schedule.cron, ...(timezone && timezone !== 'UTC' ? { timezone } : {}) },
      notes: [
        ...schedule.notes,
        timezone
          ? `Runs on the schedule "${schedule.cron}" in ${timezone}.`
          : `Runs on the schedule "${schedule.cron}" in UTC: add "timezone" (e.g. "Europe/Berlin") to run on local time.`,
      ],
      explicit: true,
    };
  }
  const ws = words(lower);
  let source: string | undefined;
  for (const w of ws) {
    const hit = Object.keys(SOURCES).find((s) => sameWord(w.text, s));
    if (hit) {
      source = hit;
      break;
    }
  }
  // The API trigger is an event *into* the workflow; "call the API" as a step is an action.
  if (!source && API_TRIGGER.test(lower) && !/\b(then|and) call\b/.test(lower)) {
    return {
      trigger: { type: 'api' },
      notes: ['Started by POST /api/workflows/<key>/runs with a token that has runs:trigger.'],
      explicit: true,
    };
  }
  if (!source && MANUAL_TRIGGER.test(lower)) {
    return { trigger: { type: 'manual' }, notes: ['Started from the studio with Run.'], explicit: true };
  }
  if (!source) {
    // "webhook from Acme", "Acme webhook": an unknown source still gets its own secret name.
    const named = /\bwebhooks? from ([a-z][a-z0-9]+)|\b([a-z][a-z0-9]+) webhooks?\b/.exec(lower);
    const name = named?.[1] ?? named?.[2];
    if (name && !['a', 'the', 'an', 'new', 'incoming', 'our', 'my', 'every', 'each'].includes(name)) source = name;
  }
  const scheme = (source && SOURCES[source]) || 'standard-webhooks';
  const secret = verifySecretName(source);
  const notes = [
    `Webhook signed with ${scheme === 'standard-webhooks' ? 'Standard Webhooks' : scheme === 'stripe' ? "Stripe's scheme" : "GitHub's scheme"}: create the secret ${secret} with the signing secret${source ? ` from ${source}` : ''}, then point the sender at the workflow's hook URL.`,
  ];
  const explicit =
    !!source || hasWord(lower, ['webhook', 'comes', 'arrives', 'received', 'placed', 'created', 'submitted', 'opened']);
  if (!explicit) notes.unshift('The prompt did not say what starts the run: assumed a webhook.');
  return {
    trigger: { type: 'webhook', verify: { scheme, secret: { $secret: secret } } },
    notes,
    source,
    explicit,
  };
}
