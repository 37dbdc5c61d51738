/** The built-in provider's pieces on their own: schedules, delays, conditions, typos, layout. */
import { describe, expect, it } from 'vitest';
import { catalog } from '../../../connectors';
import { draftFromPrompt } from '../../src/copilot/builtin/builtin-provider';
import { parseCondition, toRule } from '../../src/copilot/builtin/condition';
import { parseDelay } from '../../src/copilot/builtin/elements';
import { parseSchedule } from '../../src/copilot/builtin/schedule';
import { parseTrigger } from '../../src/copilot/builtin/trigger';
import { correctTypos, editDistance, sameWord } from '../../src/copilot/builtin/text';
import { layoutLeftToRight } from '../../src/copilot/layout';
import { Workflow } from '../../src/workflows/workflow-file';

describe('schedules in words', () => {
  it.each([
    ['every weekday at 9', '0 9 * * 1-5'],
    ['every 15 minutes', '*/15 * * * *'],
    ['every Monday at 8am', '0 8 * * 1'],
    ['daily at noon', '0 12 * * *'],
    ['hourly', '0 * * * *'],
    ['every 2 hours', '0 */2 * * *'],
    ['at midnight every day', '0 0 * * *'],
    ['every day at 5:30 pm', '30 17 * * *'],
    ['on weekends at 10', '0 10 * * 0,6'],
    ['every Tuesday and Thursday at 14:00', '0 14 * * 2,4'],
    ['monthly on the 15th', '0 9 15 * *'],
    ['every minute', '* * * * *'],
  ])('%s → %s', (text, cron) => {
    expect(parseSchedule(text)?.cron).toBe(cron);
    expect(Workflow.shape.trigger.safeParse({ type: 'schedule', cron }).success).toBe(true);
  });

  it('reads a time zone next to the time, not a country in the sentence', () => {
    const zone = (text: string) => (parseTrigger(text).trigger as { timezone?: string }).timezone;
    expect(zone('every weekday at 9 Berlin time')).toBe('Europe/Berlin');
    expect(zone('every day at 8am EST')).toBe('America/New_York');
    expect(zone('every Monday at 9 in Europe/Paris')).toBe('Europe/Paris');
    expect(zone('every weekday at 9 post orders from Germany')).toBeUndefined();
    expect(zone('daily at noon UTC')).toBeUndefined();
  });

  it('says what it assumed when no time is given', () => {
    expect(parseSchedule('every weekday')?.notes.join(' ')).toContain('09:00 UTC');
    expect(parseSchedule('when an order comes in')).toBeUndefined();
  });
});

describe('delays', () => {
  it.each([
    ['wait 2 hours', 7_200_000],
    ['wait for 15 minutes', 900_000],
    ['after 3 days', 259_200_000],
    ['wait an hour', 3_600_000],
    ['half an hour later', 1_800_000],
    ['after 5 more days', 432_000_000],
  ])('%s', (text, ms) => expect(parseDelay(text)?.ms).toBe(ms));
});

describe('conditions in words', () => {
  const rule = (text: string, source?: string) => toRule(parseCondition(text, { source }).predicates);
  it('reads thresholds, countries, flags and "unless"', () => {
    expect(rule('high value order')).toEqual({ '>=': [{ var: 'trigger.body.total' }, 1000] });
    expect(parseCondition('high value order').notes.join(' ')).toContain('confirm 1000 as the high-value threshold');
    expect(rule('over 500')).toEqual({ '>': [{ var: 'trigger.body.total' }, 500] });
    expect(rule('at least 1,000')).toEqual({ '>=': [{ var: 'trigger.body.total' }, 1000] });
    expect(rule('quantity under 3')).toEqual({ '<': [{ var: 'trigger.body.quantity' }, 3] });
    expect(rule('from Germany')).toEqual({ '==': [{ var: 'trigger.body.country' }, 'DE'] });
    expect(rule('is a VIP')).toEqual({ '==': [{ var: 'trigger.body.customer.vip' }, true] });
    expect(rule('amount over $20', 'stripe')).toEqual({ '>': [{ var: 'trigger.body.data.object.amount' }, 2000] });
    expect(toRule(parseCondition('the total is 0').predicates, true)).toEqual({
      '!=': [{ var: 'trigger.body.total' }, 0],
    });
    expect(rule('currency is eur')).toEqual({ '==': [{ var: 'trigger.body.currency' }, 'EUR'] });
    expect(rule('over 500 or a VIP')).toEqual({
      or: [{ '>': [{ var: 'trigger.body.total' }, 500] }, { '==': [{ var: 'trigger.body.customer.vip' }, true] }],
    });
    expect(toRule(parseCondition('the total is 0 or the country is Germany').predicates, true)).toEqual({
      and: [{ '!=': [{ var: 'trigger.body.total' }, 0] }, { '!=': [{ var: 'trigger.body.country' }, 'DE'] }],
    });
    // Durations and times are not conditions.
    expect(parseCondition('wait over 2 hours').predicates).toEqual([]);
  });
});

describe('typos', () => {
  it('forgives a slip on long words, not on short ones', () => {
    expect(editDistance('notfy', 'notify')).toBe(1);
    expect(sameWord('notfy', 'notify')).toBe(true);
    expect(sameWord('teh', 'the')).toBe(false);
    expect(sameWord('border', 'order')).toBe(false);
    expect(correctTypos('evry weekdy at 9 notfy #ops')).toBe('every weekday at 9 notify #ops');
    expect(correctTypos('more than 10')).toBe('more than 10');
  });

  it('drafts the same workflow from a sloppy and a tidy sentence', () => {
    const tidy = draftFromPrompt({
      prompt: 'When an order comes in over 500, create it in the ERP and notify #sales on Slack',
      catalog: catalog(),
    });
    const sloppy = draftFromPrompt({
      prompt: 'WHEN AN ORDR COMES IN OVER 500 -> creat it in teh erp + notfy #sales on slak!!',
      catalog: catalog(),
    });
    const shape = (w: any) => w.steps.map((s: any) => [s.type, s.connector, s.rule]);
    expect(shape(sloppy.workflow)).toEqual(shape(tidy.workflow));
  });
});

describe('layout', () => {
  it('puts a branch below and both paths left to right', () => {
    const { workflow } = draftFromPrompt({
      prompt: 'if the total is over 100 notify #big on slack, otherwise create the order in the ERP',
      catalog: catalog(),
    });
    const wf = layoutLeftToRight(Workflow.parse(workflow));
    const nodes = (wf.ui as { nodes: Record<string, { x: number; y: number }> }).nodes;
    const [cond, then, otherwise] = wf.steps;
    expect(nodes[then.id].x).toBeGreaterThan(nodes[cond.id].x);
    expect(nodes[otherwise.id].x).toBe(nodes[then.id].x);
    expect(nodes[otherwise.id].y).toBeGreaterThan(nodes[then.id].y);
  });
});

describe('edits', () => {
  const base = Workflow.parse({
    key: 'flow',
    name: 'Flow',
    trigger: { type: 'webhook', verify: { scheme: 'standard-webhooks', secret: { $secret: 'SHOP_WEBHOOK_SECRET' } } },
    steps: [
      { id: 'big', type: 'condition', rule: { '>=': [{ var: 'trigger.body.total' }, 1000] }, then: 'erp', else: null },
      { id: 'erp', type: 'action', connector: 'legacy_erp', action: 'create_order', params: {}, next: 'tell' },
      { id: 'tell', type: 'action', connector: 'slack', action: 'post_message', params: { channel: '#s', text: 't' } },
    ],
  });
  const edit = (prompt: string) => {
    const out = draftFromPrompt({ prompt, workflow: base, catalog: catalog() });
    return { wf: Workflow.parse(out.workflow), notes: out.notes };
  };

  it('puts a delay before the step the sentence names', () => {
    const { wf } = edit('wait 1 hour before notifying slack');
    expect(wf.steps.map((s) => s.id)).toEqual(['big', 'erp', 'wait_1h', 'tell']);
    expect(wf.steps[1]).toMatchObject({ next: 'wait_1h' });
    expect(wf.steps[2]).toMatchObject({ delayMs: 3_600_000, next: 'tell' });
  });

  it('changes the threshold, replaces the trigger, removes a connector', () => {
    expect(edit('make the threshold 2000').wf.steps[0]).toMatchObject({
      rule: { '>=': [{ var: 'trigger.body.total' }, 2000] },
    });
    const scheduled = edit('run it every day at 8 instead');
    expect(scheduled.wf.trigger).toEqual({ type: 'schedule', cron: '0 8 * * *' });
    expect(scheduled.notes.join(' ')).toContain('no event payload');
    const removed = edit("don't notify slack").wf;
    expect(removed.steps.map((s) => s.id)).toEqual(['big', 'erp']);
  });

  it('drafts an unreadable condition on its most telling word, with a note', () => {
    const out = draftFromPrompt({
      prompt: 'When a form is submitted, if they checked the newsletter box, send a welcome mail',
      catalog: catalog(),
    });
    const wf = Workflow.parse(out.workflow);
    expect(wf.steps[0]).toMatchObject({
      type: 'condition',
      rule: { '==': [{ var: 'trigger.body.newsletter' }, true] },
    });
    expect(out.notes.join(' ')).toContain('Could not read');
  });
});

describe('params', () => {
  it('takes what the sentence says: a URL, a #channel, quoted text, an email address', () => {
    const { workflow } = draftFromPrompt({
      prompt: "every monday at 9 GET https://api.example.com/report, then post 'report ready' to #ops on slack",
      catalog: catalog(),
    });
    const [http, slack] = (workflow as Workflow).steps as any[];
    expect(http.params).toMatchObject({ method: 'GET', url: 'https://api.example.com/report' });
    expect(slack.params).toEqual({ channel: '#ops', text: 'report ready' });
  });
});
