import { api, describeError } from '#lib/api.ts';
import type { PageLoad } from './$types';

// Owners and admins only: anyone else sees the API's 403 on the page.
export const load: PageLoad = async ({ fetch }) => {
  try {
    return { secrets: await api.listSecrets(fetch), secretsError: null };
  } catch (err) {
    return { secrets: null, secretsError: describeError(err) };
  }
};
