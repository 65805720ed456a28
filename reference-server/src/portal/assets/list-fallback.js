// Fallback for a server whose list answer carries no `counts`: one that ignores the list query
// and answers every key of the tenant at once. The page then filters, sorts, counts and pages
// here, with the same query and the same answer shape as server-side paging. Once every server
// pages, delete this file and its one call in key-list.js.

import { STATUSES } from './credential.js';

function time(iso) {
  const t = new Date(iso).getTime();
  return Number.isNaN(t) ? Infinity : t;
}

/**
 * The page of `all` (every credential of the tenant) that the server would answer for `query`
 * (`status`, `q`, `sort`, `limit`, `cursor`): `{credentials, counts, next_cursor}`.
 */
export function pageLocally(all, query) {
  const counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const c of all) if (c.status in counts) counts[c.status] += 1;
  const needle = (query.q || '').toLowerCase();
  const matches = all.filter(
    (c) =>
      query.status.includes(c.status) &&
      (!needle || String(c.name || '').toLowerCase().includes(needle) || String(c.id).toLowerCase().includes(needle)),
  );
  if (query.sort === 'expires') matches.sort((a, b) => time(a.expires_at) - time(b.expires_at));
  else matches.sort((a, b) => time(b.created_at) - time(a.created_at));
  const offset = /^\d+$/.test(query.cursor || '') ? Number(query.cursor) : 0;
  const end = offset + query.limit;
  return {
    credentials: matches.slice(offset, end),
    counts,
    next_cursor: end < matches.length ? String(end) : null,
  };
}
