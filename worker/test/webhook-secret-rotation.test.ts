/**
 * Rotating a webhook signing secret (docs/webhooks.md): the very next delivery sees the
 * new value; for 24 hours the replaced value still verifies (senders switch when they
 * switch), after that only the new one does; `keepPrevious: false` and PUT end it at once.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client';
import { parseKeyring } from '../src/secrets/keyring';
import { PREVIOUS_SIGNING_WINDOW_MS, readSigningValues, writeSecret } from '../src/secrets/secret-store';
import { signGithub, signStandardWebhook } from '../src/triggers/webhook-verify';
import { call } from './helpers/api';
import { publish, workspace, type Workspace } from './helpers/tenant';

const OLD = 'whsec_b2xkLXNpZ25pbmctc2VjcmV0LTAwMDAwMDAx';
const NEW = 'whsec_bmV3LXNpZ25pbmctc2VjcmV0LTAwMDAwMDAy';
const NEWER = 'whsec_bmV3ZXItc2lnbmluZy1zZWNyZXQtMDAwMDAz';

let ws: Workspace;

const flow = (key: string, secret: string, scheme = 'standard-webhooks') => ({
  key,
  name: key,
  trigger: { type: 'webhook', verify: { scheme, secret: { $secret: secret } } },
  steps: [{ id: 'echo', type: 'transform', output: { got: '{{ trigger.body.n }}' } }],
});

async function deliver(hookId: string, secret: string, n = 1) {
  const body = JSON.stringify({ n });
  const id = `msg_${crypto.randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  return call('POST', `/hooks/${hookId}`, {
    rawBody: body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': await signStandardWebhook(secret, id, ts, body),
    },
  });
}

async function setSecret(key: string, value: string) {
  const res = await call('PUT', `/api/secrets/${key}`, { token: ws.token, body: { value } });
  expect([200, 201]).toContain(res.status);
}

async function rotate(key: string, value: string, extra: Record<string, unknown> = {}) {
  return call('POST', `/api/secrets/${key}/rotate`, { token: ws.token, body: { value, ...extra } });
}

async function rows(key: string) {
  return (
    await env.DB.prepare('SELECT version FROM secrets WHERE tenant_id = ? AND key = ? ORDER BY version')
      .bind(ws.owner.tenant.id, key)
      .all<{ version: number }>()
  ).results.map((r) => r.version);
}

/**
 * Moves the last rotation of `key` back in time, as if `ms` had passed since. Isolates
 * cache signing secrets until the window's end as it was when read, so this rewrite of
 * history bumps the tenant's secrets revision, as every write to a secret does.
 */
async function age(key: string, ms: number) {
  await env.DB.batch([
    env.DB.prepare(
      'UPDATE secrets SET rotated_at = rotated_at - ? WHERE tenant_id = ? AND key = ? AND version = (SELECT max(version) FROM secrets WHERE tenant_id = ? AND key = ?)',
    ).bind(ms, ws.owner.tenant.id, key, ws.owner.tenant.id, key),
    env.DB.prepare('UPDATE tenants SET secrets_revision = secrets_revision + 1 WHERE id = ?').bind(ws.owner.tenant.id),
  ]);
}

beforeAll(async () => {
  ws = await workspace('Rotation Shop');
});

describe('rotating a signing secret through the API', () => {
  it('accepts old and new during the window, then only the new one, and keeps no expired ciphertext', async () => {
    await setSecret('SHOP_HOOK_KEY', OLD);
    const { hookId } = await publish(ws, flow('rotating_shop', 'SHOP_HOOK_KEY'));
    expect((await deliver(hookId, OLD)).status).toBe(202);
    expect((await deliver(hookId, NEW)).status).toBe(401);

    const before = Date.now();
    const rotated = await rotate('SHOP_HOOK_KEY', NEW);
    expect(rotated.status).toBe(200);
    expect(rotated.json.previousValidUntil).toBeGreaterThanOrEqual(before + PREVIOUS_SIGNING_WINDOW_MS);
    expect(rotated.json.previousValidUntil).toBeLessThanOrEqual(Date.now() + PREVIOUS_SIGNING_WINDOW_MS);
    expect(rotated.text).not.toContain(NEW.slice(6));

    // The very next deliveries: the new value works at once, the old one still does.
    expect((await deliver(hookId, NEW, 2)).status).toBe(202);
    expect((await deliver(hookId, OLD, 3)).status).toBe(202);
    expect((await deliver(hookId, NEWER, 4)).status).toBe(401);
    expect(await rows('SHOP_HOOK_KEY')).toEqual([1, 2]);

    const list = await call('GET', '/api/secrets', { token: ws.token });
    const entry = list.json.secrets.find((s: any) => s.key === 'SHOP_HOOK_KEY');
    expect(entry).toMatchObject({ version: 2, previousValidUntil: rotated.json.previousValidUntil });
    expect(list.json.secrets.filter((s: any) => s.key === 'SHOP_HOOK_KEY')).toHaveLength(1);
    expect(list.text).not.toContain(OLD.slice(6));

    // One minute before the window ends: both still verify.
    await age('SHOP_HOOK_KEY', PREVIOUS_SIGNING_WINDOW_MS - 60_000);
    expect((await deliver(hookId, OLD, 5)).status).toBe(202);
    // Past it: only the new value; the old version's row goes.
    await age('SHOP_HOOK_KEY', 61_000);
    const late = await deliver(hookId, OLD, 6);
    expect(late.status).toBe(401);
    expect(late.json.error.message).toBe('Webhook signature rejected: signature does not match');
    expect((await deliver(hookId, NEW, 7)).status).toBe(202);
    await expect.poll(() => rows('SHOP_HOOK_KEY')).toEqual([2]);
    const after = await call('GET', '/api/secrets', { token: ws.token });
    expect(after.json.secrets.find((s: any) => s.key === 'SHOP_HOOK_KEY').previousValidUntil).toBeNull();
  });

  it('keeps only the value just replaced: a second rotation drops the first value at once', async () => {
    await setSecret('TWICE_KEY', OLD);
    const { hookId } = await publish(ws, flow('rotated_twice', 'TWICE_KEY'));
    expect((await rotate('TWICE_KEY', NEW)).status).toBe(200);
    expect((await rotate('TWICE_KEY', NEWER)).status).toBe(200);
    expect(await rows('TWICE_KEY')).toEqual([2, 3]);
    expect((await deliver(hookId, NEWER)).status).toBe(202);
    expect((await deliver(hookId, NEW)).status).toBe(202);
    expect((await deliver(hookId, OLD)).status).toBe(401);
  });

  it('ends the window at once with keepPrevious: false (a leaked secret) and with PUT', async () => {
    await setSecret('LEAKED_KEY', OLD);
    const { hookId } = await publish(ws, flow('leaked_shop', 'LEAKED_KEY'));
    const res = await rotate('LEAKED_KEY', NEW, { keepPrevious: false });
    expect(res.status).toBe(200);
    expect(res.json.previousValidUntil).toBeNull();
    expect(await rows('LEAKED_KEY')).toEqual([2]);
    expect((await deliver(hookId, OLD)).status).toBe(401);
    expect((await deliver(hookId, NEW)).status).toBe(202);

    expect((await rotate('LEAKED_KEY', NEWER)).status).toBe(200);
    await setSecret('LEAKED_KEY', OLD);
    expect(await rows('LEAKED_KEY')).toEqual([4]);
    expect((await deliver(hookId, NEWER)).status).toBe(401);
    expect((await deliver(hookId, OLD)).status).toBe(202);

    const bad = await rotate('LEAKED_KEY', NEW, { keepPrevious: 'no' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0].path).toBe('keepPrevious');
  });

  it('audits the window without any value', async () => {
    const res = await call('GET', '/api/audit?action=secret.rotate', { token: ws.token });
    const entry = res.json.entries.find((e: any) => e.targetId === 'SHOP_HOOK_KEY');
    expect(entry.context).toMatchObject({ version: 2, previousVersion: 1 });
    expect(entry.context.previousValidForSignaturesUntil).toEqual(expect.any(Number));
    for (const v of [OLD, NEW, NEWER]) expect(res.text).not.toContain(v.slice(6));
  });

  it('works for a sender that signs with one secret only (GitHub)', async () => {
    await setSecret('GH_HOOK_KEY', 'github-old-secret-value');
    const { hookId } = await publish(ws, flow('gh_repo', 'GH_HOOK_KEY', 'github'));
    const send = async (secret: string) =>
      call('POST', `/hooks/${hookId}`, {
        rawBody: '{"n":1}',
        headers: {
          'content-type': 'application/json',
          'x-github-delivery': crypto.randomUUID(),
          'x-hub-signature-256': await signGithub(secret, '{"n":1}'),
        },
      });
    expect((await rotate('GH_HOOK_KEY', 'github-new-secret-value')).status).toBe(200);
    // Automate updated first, GitHub still on the old secret: not lost.
    expect((await send('github-old-secret-value')).status).toBe(202);
    expect((await send('github-new-secret-value')).status).toBe(202);
    await age('GH_HOOK_KEY', PREVIOUS_SIGNING_WINDOW_MS + 1);
    expect((await send('github-old-secret-value')).status).toBe(401);
    expect((await send('github-new-secret-value')).status).toBe(202);
  });
});

describe('readSigningValues', () => {
  it('returns current then previous inside the window, current only (and a prune) after it', async () => {
    const db = createDb(env.DB);
    const ring = await parseKeyring(env.AUTOMATE_MASTER_KEY);
    const tenantId = ws.owner.tenant.id;
    const meta = { actor: { type: 'system' as const, id: null, label: 'test' }, ip: null, requestId: 'r' };
    await writeSecret(db, ring, tenantId, 'UNIT_KEY', 'value-one-0001', 'put', meta);
    const { previousValidUntil } = await writeSecret(db, ring, tenantId, 'UNIT_KEY', 'value-two-0002', 'rotate', meta);
    expect(previousValidUntil).not.toBeNull();

    const inside = await readSigningValues(db, ring, tenantId, 'UNIT_KEY', previousValidUntil! - 1);
    // changesAt: when the set changes by itself, so a cached copy expires then.
    expect(inside).toEqual({ values: ['value-two-0002', 'value-one-0001'], changesAt: previousValidUntil });
    const outside = await readSigningValues(db, ring, tenantId, 'UNIT_KEY', previousValidUntil!);
    expect(outside.values).toEqual(['value-two-0002']);
    expect(outside.prune).toEqual(expect.any(Function));
    await outside.prune!();
    expect(await rows('UNIT_KEY')).toEqual([2]);
    expect(await readSigningValues(db, ring, tenantId, 'UNIT_KEY')).toEqual({ values: ['value-two-0002'] });
  });
});
