/**
 * `slack.post_message`: Slack Web API `chat.postMessage` with a bot token.
 * Slack answers most failures with HTTP 200 and `{ok: false, error}`; the error code
 * decides whether trying again can help.
 */
import { z } from 'zod';
import {
  ActionSpec,
  ConnectorAdapter,
  ConnectorError,
  describeUrl,
  errorForStatus,
  fetchText,
  parseRetryAfter,
  requireSecret,
  type ActionInput,
  type ExecutionContext,
} from '../sdk';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api';

/** Slack error codes where the same call may succeed later. Everything else is final. */
const RETRYABLE_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'request_timeout',
  'service_unavailable',
  'fatal_error',
  'internal_error',
]);

/** What to tell the workflow author for the errors people actually hit. */
const HINTS: Record<string, string> = {
  not_authed: 'no token was sent: declare SLACK_BOT_TOKEN on the step',
  invalid_auth: 'the SLACK_BOT_TOKEN secret is not a valid token',
  token_revoked: 'the SLACK_BOT_TOKEN secret has been revoked',
  account_inactive: 'the Slack app or its workspace has been deactivated',
  channel_not_found: 'no such channel, or the bot cannot see it',
  not_in_channel: 'invite the bot to the channel (/invite @your-bot)',
  is_archived: 'the channel is archived',
  missing_scope: 'the bot token lacks the chat:write scope',
  msg_too_long: 'the text is longer than Slack allows',
  no_text: 'give text or blocks',
  invalid_blocks: 'Slack rejected the blocks',
};

export const PostMessage = ActionSpec({
  description: 'Post a message to a Slack channel (chat.postMessage).',
  inputs: z.object({
    channel: z.string().trim().min(1).describe('Channel ID (C0123...) or name (#sales)'),
    text: z
      .string()
      .min(1)
      .max(40_000)
      .describe('Message text (mrkdwn); the notification fallback when blocks are given'),
    blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional().describe('Block Kit blocks'),
    thread_ts: z
      .string()
      .regex(/^\d+\.\d+$/, 'a Slack message ts, e.g. "1700000000.000100"')
      .optional()
      .describe('Reply in this thread'),
  }),
  outputs: z.object({
    channel: z.string().describe('Channel ID'),
    ts: z.string().describe('Timestamp id of the posted message'),
  }),
});

export class SlackConnector extends ConnectorAdapter {
  readonly code = 'slack';
  readonly name = 'Slack';
  readonly description = 'Post messages to Slack as a bot.';
  readonly secrets = ['SLACK_BOT_TOKEN'];
  readonly settings = ['API_URL'];
  readonly actions = { post_message: PostMessage };

  async execute(action: string, params: ActionInput<typeof PostMessage>, ctx: ExecutionContext) {
    if (action !== 'post_message')
      throw new ConnectorError(`slack has no action "${action}"`, { code: 'UNKNOWN_ACTION' });
    return postMessage(params, ctx);
  }
}

async function postMessage(p: ActionInput<typeof PostMessage>, ctx: ExecutionContext) {
  const token = requireSecret(ctx, 'SLACK_BOT_TOKEN');
  const apiUrl = (ctx.settings.API_URL?.trim() || DEFAULT_SLACK_API_URL).replace(/\/+$/, '');
  const url = `${apiUrl}/chat.postMessage`;
  const payload: Record<string, unknown> = { channel: p.channel, text: p.text };
  if (p.blocks) payload.blocks = p.blocks;
  if (p.thread_ts) payload.thread_ts = p.thread_ts;

  const { response, text } = await fetchText(ctx, url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
  });
  const label = `Slack chat.postMessage (${describeUrl(url)})`;
  if (response.status === 429) {
    throw new ConnectorError('Slack rate limit reached (HTTP 429)', {
      retryable: true,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      status: 429,
      code: 'ratelimited',
    });
  }
  let answer: { ok?: unknown; error?: unknown; channel?: unknown; ts?: unknown } | undefined;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (!answer || typeof answer !== 'object') {
    if (!response.ok) throw errorForStatus(response, text, label);
    throw new ConnectorError(`${label} did not answer with JSON (HTTP ${response.status})`, {
      code: 'BAD_RESPONSE',
      status: response.status,
    });
  }
  if (answer.ok !== true) {
    const error = typeof answer.error === 'string' ? answer.error : `HTTP_${response.status}`;
    const retryable = RETRYABLE_ERRORS.has(error) || response.status >= 500;
    const hint = HINTS[error];
    throw new ConnectorError(`Slack rejected the message: ${error}${hint ? ` (${hint})` : ''}`, {
      retryable,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      status: response.status,
      code: error,
    });
  }
  if (typeof answer.channel !== 'string' || typeof answer.ts !== 'string') {
    throw new ConnectorError(`${label} answered ok without channel and ts`, {
      code: 'BAD_RESPONSE',
      status: response.status,
    });
  }
  return { channel: answer.channel, ts: answer.ts };
}
