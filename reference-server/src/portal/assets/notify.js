// Status messages: a polite live region in the flow of the page, under the heading. It never
// floats over the list, goes away after a while, and is cleared when the session ends.

import { byId } from './dom.js';

const SHOW_MS = 8000;
let timer = 0;

/** Shows and announces a short message about what just happened. */
export function announce(message) {
  const region = byId('status');
  window.clearTimeout(timer);
  region.textContent = message;
  timer = window.setTimeout(clearAnnouncement, SHOW_MS);
}

/** Removes the current message at once. */
export function clearAnnouncement() {
  window.clearTimeout(timer);
  byId('status').textContent = '';
}
