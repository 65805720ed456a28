// Fallback for a server whose admin API has no key list yet (`GET /v1/admin/credentials`
// answers 404): a key id or a masked key is then looked up alone (`GET
// /v1/admin/credentials/<id>`, which every server of this contract answers), so that the most
// urgent search — find a leaked key by its id and revoke it — works everywhere; any other search
// says what to type. Once every server lists keys, delete this file and its one call in
// key-search.js.

import { getCredential } from './admin-api.js';
import { ApiError } from './http.js';

/** A bare key id, or a masked key `<prefix>_<env>_<key id>_••••`. */
const KEY_ID_OR_MASKED = /^(?:[A-Za-z0-9]+_[A-Za-z0-9]+_)?([0-9A-Za-z]{12})(?:_•+)?$/;

/**
 * The page the list would answer for `query` (`q`, `tenant`, `status`), from the one key the
 * search names: `{credentials, next_cursor: null}`.
 */
export async function lookUpAlone({ q, tenant, status }) {
  const match = KEY_ID_OR_MASKED.exec(q.trim());
  if (!match) {
    throw new ApiError(
      404,
      'not_found',
      'This server cannot search keys yet: type or paste a key id (or a masked key) to look that key up.',
    );
  }
  let data;
  try {
    data = await getCredential(match[1]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { credentials: [], next_cursor: null };
    throw error;
  }
  const credential = data?.credential ? { ...data.credential, tenant: data.tenant ?? null } : null;
  const fits =
    credential &&
    (!tenant || credential.tenant?.id === tenant) &&
    (!status || status.split(',').includes(credential.status));
  return { credentials: fits ? [credential] : [], next_cursor: null };
}
