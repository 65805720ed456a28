// Formatting of times and durations for people.

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** A date and time in the reader's locale and time zone, e.g. "27 Nov 2026, 21:04". */
export function formatDateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateTime.format(d);
}

/** A date in the reader's locale, e.g. "27 Nov 2026". */
export function formatDate(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : dateOnly.format(d);
}

/** "1 day", "5 days". */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "expires in N days" wording from the API's `expires_in_days`. */
export function expiresIn(days) {
  if (days === 0) return 'Expires today';
  return `Expires in ${plural(days, 'day', 'days')}`;
}

/** A short "in 2 days 3 h" / "in 47 min" for a future instant; "now" when past. */
export function untilText(iso, now = Date.now()) {
  const ms = new Date(iso).getTime() - now;
  if (!(ms > 0)) return 'now';
  const minutes = Math.round(ms / 60000);
  if (minutes < 60) return `in ${plural(Math.max(minutes, 1), 'minute', 'minutes')}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest ? `in ${hours} h ${rest} min` : `in ${plural(hours, 'hour', 'hours')}`;
  }
  const days = Math.floor(hours / 24);
  const restH = hours % 24;
  return restH ? `in ${plural(days, 'day', 'days')} ${restH} h` : `in ${plural(days, 'day', 'days')}`;
}

/** "3 minutes", "1 hour 5 minutes" for a number of seconds (Retry-After). */
export function durationText(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return plural(s, 'second', 'seconds');
  const m = Math.ceil(s / 60);
  if (m < 60) return plural(m, 'minute', 'minutes');
  const hours = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? `${plural(hours, 'hour', 'hours')} ${plural(rest, 'minute', 'minutes')}` : plural(hours, 'hour', 'hours');
}
