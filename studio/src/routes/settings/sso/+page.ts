import { error } from '@sveltejs/kit';
import { api, describeError, type Fetch } from '#lib/api.ts';
import { sso } from '#lib/api/sso.ts';
import { can } from '#lib/permissions.ts';
import type { PageLoad } from './$types';

/** The stored secrets' keys, to pick the client secret from; the page works without them. */
async function storedSecretKeys(fetchImpl: Fetch): Promise<string[]> {
  try {
    return (await api.listSecrets(fetchImpl)).filter((s) => s.backend === 'stored').map((s) => s.key);
  } catch {
    return [];
  }
}

export const load: PageLoad = async ({ fetch, parent }) => {
  const { me } = await parent();
  // Admins see Governance but not this: the API refuses them, so the page does not ask.
  if (!can(me, 'sso')) error(403, { message: "Single sign-on is configured by the team's owners.", code: 'forbidden' });
  try {
    const [answer, secretKeys] = await Promise.all([sso.get(fetch), storedSecretKeys(fetch)]);
    return { answer, secretKeys, loadError: null };
  } catch (err) {
    return { answer: null, secretKeys: [] as string[], loadError: describeError(err) };
  }
};
