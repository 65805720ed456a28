// Formatting of times and durations for people. Every absolute time names its time zone; the
// reader may switch every time on the page to UTC (the footer's "Show times in UTC").

const UTC_KEY = 'idunox.portal.utc';

const parts = { year: 'numeric', month: 'short', day: 'numeric' };
const withTime = { ...parts, hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
const formats = {
  local: {
    dateTime: new Intl.DateTimeFormat(undefined, withTime),
    date: new Intl.DateTimeFormat(undefined, parts),
  },
  utc: {
    dateTime: new Intl.DateTimeFormat(undefined, { ...withTime, timeZone: 'UTC' }),
    date: new Intl.DateTimeFormat(undefined, { ...parts, timeZone: 'UTC' }),
  },
};

let useUtc = (() => {
  try {
    return localStorage.getItem(UTC_KEY) === '1';
  } catch {
    return false;
  }
})();

/** Whether times are shown in UTC rather than the reader's own zone. */
export function timesInUtc() {
  return useUtc;
}

/** Switches every time shown from now on to UTC (or back), remembered in this browser. */
export function setTimesInUtc(value) {
  useUtc = Boolean(value);
  try {
    if (useUtc) localStorage.setItem(UTC_KEY, '1');
    else localStorage.removeItem(UTC_KEY);
  } catch {
    // Storage may be disabled: the choice then lasts for this page only.
  }
}

/** The reader's own time zone, e.g. "Europe/Berlin". */
export function localZoneName() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

function valid(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A date and time with its zone, e.g. "Nov 27, 2026, 9:04 PM GMT+1" (or in UTC). */
export function formatDateTime(iso, utc = useUtc) {
  const d = valid(iso);
  return d ? formats[utc ? 'utc' : 'local'].dateTime.format(d) : String(iso);
}

/** A date, e.g. "Nov 27, 2026" (the day in the zone times are shown in). */
export function formatDate(iso, utc = useUtc) {
  const d = valid(iso);
  return d ? formats[utc ? 'utc' : 'local'].date.format(d) : String(iso);
}

/** "1 day", "5 days". */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "in N days" wording from the API's `expires_in_days`. */
export function expiresIn(days) {
  if (days === 0) return 'today';
  return `in ${plural(days, 'day', 'days')}`;
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
