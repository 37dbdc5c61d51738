/**
 * Sign-ups racing each other: the unique indexes decide, and the loser hears why in a code
 * it can act on (docs/errors.md), never a 500.
 */
import { describe, expect, it } from 'vitest';
import { call, PASSWORD } from './helpers/api';

const signupAs = (tenant: string, email: string) =>
  call('POST', '/api/auth/signup', { body: { tenant, email, password: PASSWORD } });

describe('racing sign-ups', () => {
  it('for one team name all succeed, each tenant with its own slug', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => signupAs('Racing Team', `racer${i}-${crypto.randomUUID().slice(0, 8)}@example.com`)),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const slugs = results.map((r) => r.json.tenant.slug);
    expect(new Set(slugs).size).toBe(4);
    for (const slug of slugs) expect(slug).toMatch(/^racing-team(-[0-9a-f]{6})?$/);
  });

  it('for one email: one wins, the others get email_taken', async () => {
    const email = `same-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const results = await Promise.all([1, 2, 3].map((i) => signupAs(`Same Email ${i}`, email)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe('email_taken');
    }
  });
});
