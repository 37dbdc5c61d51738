import { api, describeError } from '#lib/api.ts';
import type { PageLoad } from './$types';

// Owners and admins only: anyone else sees the API's 403 on the page.
export const load: PageLoad = async ({ fetch }) => {
  try {
    return { tokens: await api.listTokens(fetch), tokensError: null };
  } catch (err) {
    return { tokens: null, tokensError: describeError(err) };
  }
};
