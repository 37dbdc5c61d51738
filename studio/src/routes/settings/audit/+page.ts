import { governance } from '#lib/api/governance.ts';
import { describeError } from '#lib/api.ts';
import { formFromUrl, formToFilter } from '#lib/audit-filter.ts';
import type { PageLoad } from './$types';

// The filters are the URL's: a change of filter is a navigation, and loads the first page.
export const load: PageLoad = async ({ fetch, url, parent }) => {
  // After the settings layout's role check, so a refused role makes no call the API would refuse.
  await parent();
  const form = formFromUrl(url);
  try {
    return { form, page: await governance.listAudit(formToFilter(form), fetch), auditError: null };
  } catch (err) {
    return { form, page: null, auditError: describeError(err) };
  }
};
