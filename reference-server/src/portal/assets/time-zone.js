// The footer's time-zone line and its "Show times in UTC" switch (format.js remembers the
// choice). Shared by the partner portal and the staff console.

import { byId } from './dom.js';
import { localZoneName, setTimesInUtc, timesInUtc } from './format.js';

function render() {
  const utc = timesInUtc();
  byId('time-zone-text').textContent = utc ? 'Times in UTC.' : `Times in your time zone (${localZoneName()}).`;
  const toggle = byId('utc-toggle');
  toggle.setAttribute('aria-pressed', utc ? 'true' : 'false');
  toggle.textContent = 'Show times in UTC';
}

/** Shows the zone times are in and wires the switch; `onChange()` draws the page's times again. */
export function initTimeZone(onChange) {
  render();
  byId('utc-toggle').addEventListener('click', () => {
    setTimesInUtc(!timesInUtc());
    render();
    onChange();
  });
}
