import { redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import type { PageLoad } from './$types';

// Settings has no page of its own: start at the tokens.
export const load: PageLoad = () => {
  redirect(307, resolve('/settings/tokens'));
};
