import { describe, expect, it } from 'vitest';
import { ConnectorError, catalog, runAction } from '..';
import { testContext } from '../testing/context';
import { requests, script, stubUrl, uniqueNamespace } from '../testing/stub-client';

const TOKEN = 'xoxb-test-token';

/** Each test gets its own Slack (`/slack/<ns>/api`), so scripts and recorded requests do not mix. */
function slackStub() {
  const apiUrl = `${stubUrl()}/slack/${uniqueNamespace()}/api`;
  const endpoint = new URL(`${apiUrl}/chat.postMessage`).pathname;
  const post = (params: Record<string, unknown>, secrets: Record<string, string> = { SLACK_BOT_TOKEN: TOKEN }) =>
    runAction('slack', 'post_message', params, testContext({ secrets, settings: { API_URL: apiUrl } })) as Promise<any>;
  return { apiUrl, endpoint, post };
}

async function rejection(p: Promise<unknown>): Promise<ConnectorError> {
  const err = await p.then(
    () => undefined,
    (e) => e,
  );
  expect(err, 'expected the action to fail').toBeInstanceOf(ConnectorError);
  return err;
}

describe('slack.post_message: happy path', () => {
  it('posts to chat.postMessage with the bot token and returns channel and ts', async () => {
    const { endpoint, post } = slackStub();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*High value order*' } }];
    const out = await post({ channel: '#sales', text: 'High value order ERP-1 for 1200', blocks });
    expect(out).toEqual({ channel: 'C0SALES', ts: expect.stringMatching(/^\d+\.\d{6}$/) });

    const [seen] = await requests(endpoint);
    expect(seen.method).toBe('POST');
    expect(seen.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen.headers['content-type']).toMatch(/^application\/json/);
    expect(seen.body).toEqual({ channel: '#sales', text: 'High value order ERP-1 for 1200', blocks });
  });

  it('replies in a thread', async () => {
    const { endpoint, post } = slackStub();
    const first = await post({ channel: 'C0GENERAL', text: 'parent' });
    const reply = await post({ channel: 'C0GENERAL', text: 'child', thread_ts: first.ts });
    expect(reply.ts).not.toBe(first.ts);
    expect((await requests(endpoint))[1].body).toMatchObject({ thread_ts: first.ts });
  });

  it('uses https://slack.com/api when no API_URL setting is configured', async () => {
    const urls: string[] = [];
    const fakeFetch = (async (input: RequestInfo | URL) => {
      urls.push(String(input));
      return Response.json({ ok: true, channel: 'C1', ts: '1.000001' });
    }) as typeof fetch;
    await runAction(
      'slack',
      'post_message',
      { channel: 'C1', text: 'hi' },
      testContext({ secrets: { SLACK_BOT_TOKEN: TOKEN }, fetch: fakeFetch }),
    );
    expect(urls).toEqual(['https://slack.com/api/chat.postMessage']);
  });
});

describe('slack.post_message: Slack errors', () => {
  it.each([
    ['invalid_auth', { channel: '#sales', text: 'x' }, { SLACK_BOT_TOKEN: 'xoxb-wrong' }],
    ['channel_not_found', { channel: '#nope', text: 'x' }, undefined],
    ['not_in_channel', { channel: '#random', text: 'x' }, undefined],
    ['is_archived', { channel: '#old-projects', text: 'x' }, undefined],
  ])('%s (HTTP 200, ok:false) is not retryable', async (code, params, secrets) => {
    const { post } = slackStub();
    const err = await rejection(post(params, secrets));
    expect(err).toMatchObject({ retryable: false, code, status: 200 });
    expect(err.message).toContain(code);
  });

  it('never puts the token in the message', async () => {
    const { post } = slackStub();
    const err = await rejection(post({ channel: '#sales', text: 'x' }, { SLACK_BOT_TOKEN: 'xoxb-wrong-and-secret' }));
    expect(err.message).not.toContain('xoxb-wrong-and-secret');
    expect(JSON.stringify(err.toJSON())).not.toContain('xoxb-wrong-and-secret');
  });

  it('HTTP 429 is retryable with Retry-After', async () => {
    const { endpoint, post } = slackStub();
    await script(endpoint, [
      { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } },
    ]);
    const err = await rejection(post({ channel: '#sales', text: 'x' }));
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 30_000, status: 429, code: 'ratelimited' });
    // The script is used up: the next attempt goes through.
    expect((await post({ channel: '#sales', text: 'x' })).channel).toBe('C0SALES');
  });

  it('ok:false ratelimited with HTTP 200 is retryable too', async () => {
    const { endpoint, post } = slackStub();
    await script(endpoint, [{ status: 200, body: { ok: false, error: 'ratelimited' } }]);
    expect((await rejection(post({ channel: '#sales', text: 'x' }))).retryable).toBe(true);
  });

  it('5xx, with or without a JSON body, is retryable', async () => {
    const { endpoint, post } = slackStub();
    await script(endpoint, [
      { status: 503, headers: { 'content-type': 'text/html' }, body: '<html>upstream error</html>' },
      { status: 500, body: { ok: false, error: 'internal_error' } },
    ]);
    const html = await rejection(post({ channel: '#sales', text: 'x' }));
    expect(html).toMatchObject({ retryable: true, status: 503 });
    const json = await rejection(post({ channel: '#sales', text: 'x' }));
    expect(json).toMatchObject({ retryable: true, status: 500, code: 'internal_error' });
  });

  it('a missing token is a clear, non-retryable error and nothing is sent', async () => {
    const { endpoint, post } = slackStub();
    const err = await rejection(post({ channel: '#sales', text: 'x' }, {}));
    expect(err).toMatchObject({ retryable: false, code: 'MISSING_SECRET' });
    expect(err.message).toContain('SLACK_BOT_TOKEN');
    expect(await requests(endpoint)).toHaveLength(0);
  });
});

describe('slack.post_message: params and catalog', () => {
  it('names the bad param', async () => {
    const { post } = slackStub();
    expect((await rejection(post({ text: 'x' }))).message).toMatch(/^params\.channel: /);
    expect((await rejection(post({ channel: '#sales', text: '' }))).message).toMatch(/^params\.text: /);
    expect((await rejection(post({ channel: '#sales', text: 'x', thread_ts: 'yesterday' }))).message).toMatch(
      /^params\.thread_ts: a Slack message ts/,
    );
  });

  it('rejects an unknown action, non-retryable', async () => {
    const err = await rejection(runAction('slack', 'delete_message', {}, testContext()));
    expect(err).toMatchObject({ retryable: false, code: 'UNKNOWN_ACTION' });
  });

  it('documents its secret and setting in the catalog', () => {
    const slack = catalog().find((c) => c.code === 'slack')!;
    expect(slack.secrets).toEqual(['SLACK_BOT_TOKEN']);
    expect(slack.settings).toEqual(['API_URL']);
    expect(slack.actions[0]).toMatchObject({
      name: 'post_message',
      inputs: { required: ['channel', 'text'] },
      outputs: { properties: { channel: { type: 'string' }, ts: { type: 'string' } } },
    });
  });
});
