import { api, describeError } from '#lib/api.ts';
import type { PageLoad } from './$types';

// Owners and admins only (the settings layout turns anyone else away first).
export const load: PageLoad = async ({ fetch, parent }) => {
  // After the settings layout's role check, so a refused role makes no call the API would refuse.
  await parent();
  try {
    return { secrets: await api.listSecrets(fetch), secretsError: null };
  } catch (err) {
    return { secrets: null, secretsError: describeError(err) };
  }
};
