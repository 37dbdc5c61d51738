/**
 * Stored-secret encryption: round trip, and every way a ciphertext must refuse to
 * decrypt (tampered, moved to another tenant or key, wrong or missing master key),
 * then master-key rotation with live secrets.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { failure } from './helpers/secrets';
import { createDb } from '../src/db/client';
import { open, seal } from '../src/secrets/cipher';
import { parseKeyring } from '../src/secrets/keyring';
import { createSecretResolver } from '../src/secrets/resolver';
import { countByKeyId, reencryptBatch, writeSecret } from '../src/secrets/secret-store';
import { signup, type Session } from './helpers/api';

const db = createDb(env.DB);
const material = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const meta = { actor: { type: 'system' as const, id: 'test', label: 'test' }, ip: null, requestId: 'req_test' };

describe('master key setting', () => {
  it('takes one or more <keyId>:<base64 32 bytes> entries, the first current', async () => {
    const ring = await parseKeyring(` new2:${material()} , old1:${material()}`);
    expect(ring.currentId).toBe('new2');
    expect(ring.ids).toEqual(['new2', 'old1']);
  });

  it('refuses a missing or malformed setting without echoing key material', async () => {
    const short = btoa('too short');
    for (const [setting, why] of [
      [undefined, /not configured/],
      ['', /not configured/],
      [material(), /entry 1 has no valid key id/],
      [`k1:${short}`, /entry 1 decodes to 9 bytes, not 32/],
      [`k1:${material()},k1:${material()}`, /entry 2 repeats the key id "k1"/],
      [`k1:not base64!!`, /entry 1 is not base64/],
    ] as const) {
      const e = await failure(parseKeyring(setting));
      expect(e.code).toBe('NOT_CONFIGURED');
      expect(e.message).toMatch(why);
      expect(e.message).not.toContain(short);
    }
  });
});

describe('encryption', () => {
  const at = { tenantId: 'tn_a', key: 'ERP_API_KEY', version: 1 };

  it('round-trips any UTF-8 value, with a fresh IV each time', async () => {
    const ring = await parseKeyring(`k1:${material()}`);
    const value = 'sk_live_ünïcode "quoted" \n line 2 🔑';
    const a = await seal(ring, at, value);
    const b = await seal(ring, at, value);
    expect(a.keyId).toBe('k1');
    expect(a.iv).not.toBe(b.iv);
    expect(a.ciphertext).not.toContain(btoa('sk_live'));
    expect(await open(ring, at, a)).toBe(value);
  });

  it('refuses a tampered ciphertext with a clear error', async () => {
    const ring = await parseKeyring(`k1:${material()}`);
    const sealed = await seal(ring, at, 'super-secret-value');
    const bytes = Uint8Array.from(atob(sealed.ciphertext), (c) => c.charCodeAt(0));
    bytes[3] ^= 0x01;
    const e = await failure(open(ring, at, { ...sealed, ciphertext: btoa(String.fromCharCode(...bytes)) }));
    expect(e.code).toBe('UNDECRYPTABLE');
    expect(e.message).toMatch(/Secret "ERP_API_KEY" \(version 1\) could not be decrypted: the ciphertext was altered/);
    expect(e.message).not.toContain('super-secret-value');
  });

  it('refuses a ciphertext moved to another tenant, key or version', async () => {
    const ring = await parseKeyring(`k1:${material()}`);
    const sealed = await seal(ring, at, 'super-secret-value');
    for (const moved of [
      { ...at, tenantId: 'tn_b' },
      { ...at, key: 'OTHER_KEY' },
      { ...at, version: 2 },
    ]) {
      expect((await failure(open(ring, moved, sealed))).code).toBe('UNDECRYPTABLE');
    }
  });

  it('refuses under the wrong master key, and names a key id that is gone', async () => {
    const sealed = await seal(await parseKeyring(`k1:${material()}`), at, 'super-secret-value');
    const wrong = await failure(open(await parseKeyring(`k1:${material()}`), at, sealed));
    expect(wrong.message).toMatch(/master key "k1" is not the one that encrypted it/);
    const gone = await failure(open(await parseKeyring(`k2:${material()}`), at, sealed));
    expect(gone.message).toMatch(/encrypted under master key id "k1", which is not in AUTOMATE_MASTER_KEY/);
  });
});

describe('stored rows', () => {
  let a: Session;
  let b: Session;
  beforeAll(async () => {
    a = await signup('Crypto A');
    b = await signup('Crypto B');
  });

  it('keeps only ciphertext in D1', async () => {
    const ring = await parseKeyring(env.AUTOMATE_MASTER_KEY);
    await writeSecret(db, ring, a.tenant.id, 'PLAIN_CHECK', 'plain-value-7781', 'put', meta);
    const rows = await env.DB.prepare('SELECT * FROM secrets WHERE tenant_id = ?').bind(a.tenant.id).all();
    expect(JSON.stringify(rows.results)).not.toContain('plain-value-7781');
    expect(JSON.stringify(rows.results)).not.toContain(btoa('plain-value-7781').slice(0, 12));
  });

  it('does not decrypt a row copied into another tenant', async () => {
    const ring = await parseKeyring(env.AUTOMATE_MASTER_KEY);
    await writeSecret(db, ring, a.tenant.id, 'COPIED_KEY', 'copied-value-1234', 'put', meta);
    await env.DB.prepare(`INSERT INTO secrets (tenant_id, key, version, key_id, iv, ciphertext, created_at)
      SELECT ?, key, version, key_id, iv, ciphertext, created_at FROM secrets WHERE tenant_id = ? AND key = 'COPIED_KEY'`)
      .bind(b.tenant.id, a.tenant.id)
      .run();
    const resolver = createSecretResolver(env, db);
    const e = await failure(resolver.resolveForStep(b.tenant, { K: { $secret: 'COPIED_KEY' } }, { stepId: 'fetch' }));
    expect(e.code).toBe('UNDECRYPTABLE');
    expect(e.message).toMatch(/^Step "fetch": Secret "COPIED_KEY"/);
    // The owner still reads it.
    expect((await resolver.resolveForStep(a.tenant, { K: { $secret: 'COPIED_KEY' } })).values.K).toBe(
      'copied-value-1234',
    );
  });
});

describe('master key rotation with live secrets', () => {
  it('adds a key, re-encrypts lazily and in batches, then retires the old key', async () => {
    const t = await signup('Rotation Co');
    const old1 = `old1:${material()}`;
    const new2 = `new2:${material()}`;
    const refs = { A: { $secret: 'ROT_A' }, B: { $secret: 'ROT_B' }, C: { $secret: 'ROT_C' } };
    const expected = { A: 'value-a-0001', B: 'value-b-0002', C: 'value-c-0003' };
    const before = await parseKeyring(old1);
    for (const [name, ref] of Object.entries(refs))
      await writeSecret(db, before, t.tenant.id, ref.$secret, expected[name as 'A'], 'put', meta);
    const keyIds = async () =>
      (
        await env.DB.prepare('SELECT key, key_id FROM secrets WHERE tenant_id = ? ORDER BY key')
          .bind(t.tenant.id)
          .all<{ key: string; key_id: string }>()
      ).results.map((r) => r.key_id);
    expect(await keyIds()).toEqual(['old1', 'old1', 'old1']);

    // 1. Deploy "new2,old1": everything still resolves; new writes use new2; a read re-encrypts.
    const during = { ...env, AUTOMATE_MASTER_KEY: `${new2},${old1}` };
    const resolver = createSecretResolver(during, db);
    expect((await resolver.resolveForStep(t.tenant, { A: refs.A })).values).toEqual({ A: expected.A });
    expect(await keyIds()).toEqual(['new2', 'old1', 'old1']);
    await writeSecret(
      db,
      await parseKeyring(during.AUTOMATE_MASTER_KEY),
      t.tenant.id,
      'ROT_C',
      expected.C,
      'rotate',
      meta,
      // Master-key rotation is the point here, not the webhook signing window.
      { keepPrevious: false },
    );
    expect(await keyIds()).toEqual(['new2', 'old1', 'new2']);

    // 2. The background pass moves the rest, in batches, while secrets stay readable.
    const ring = await parseKeyring(during.AUTOMATE_MASTER_KEY);
    expect(await reencryptBatch(db, ring, 1)).toEqual({
      reencrypted: 1,
      failed: 0,
      remaining: 0,
      orphaned: expect.any(Number),
    });
    expect(await keyIds()).toEqual(['new2', 'new2', 'new2']);
    expect((await resolver.resolveForStep(t.tenant, refs)).values).toEqual(expected);
    expect((await countByKeyId(db)).old1 ?? 0).toBe(0);

    // 3. Retire old1: nothing breaks.
    const after = createSecretResolver({ ...env, AUTOMATE_MASTER_KEY: new2 }, db);
    expect((await after.resolveForStep(t.tenant, refs)).values).toEqual(expected);
  });

  it('says which key id is missing when an old key is retired too early', async () => {
    const t = await signup('Too Early Co');
    const old1 = `early1:${material()}`;
    await writeSecret(db, await parseKeyring(old1), t.tenant.id, 'EARLY', 'early-value-99', 'put', meta);
    const resolver = createSecretResolver({ ...env, AUTOMATE_MASTER_KEY: `early2:${material()}` }, db);
    const e = await failure(resolver.resolveForStep(t.tenant, { X: { $secret: 'EARLY' } }, { stepId: 'send' }));
    expect(e.message).toBe(
      'Step "send": Secret "EARLY" (version 1) is encrypted under master key id "early1", which is not in AUTOMATE_MASTER_KEY; add that entry back (docs/secrets.md)',
    );
    const report = await reencryptBatch(db, await parseKeyring(`early2:${material()}`), 10);
    expect(report.orphaned).toBeGreaterThanOrEqual(1);
  });
});
