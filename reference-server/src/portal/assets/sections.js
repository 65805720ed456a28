// The signed-in portal has two sections, each at its own address so that the browser's Back
// button and bookmarks work: API keys (`#keys`, the default) and Activity (`#activity`).

import { loadActivity } from './activity.js';
import { byId, show } from './dom.js';
import { loadKeys } from './key-list.js';

const SECTIONS = {
  keys: { view: 'keys-view', link: 'nav-keys', title: 'keys-title', load: loadKeys },
  activity: { view: 'activity-view', link: 'nav-activity', title: 'activity-title', load: loadActivity },
};

let shown = false;
let current = 'keys';

/** The section the address names (none: the keys), or null for another fragment (the skip link's). */
function fromAddress() {
  const name = window.location.hash.slice(1);
  if (name === '') return 'keys';
  return Object.hasOwn(SECTIONS, name) ? name : null;
}

/** The heading of the section on screen (where focus goes when nothing else should have it). */
export function sectionTitle() {
  return byId(SECTIONS[current].title);
}

/** Shows the section the address names and loads it; `focus`: move focus to its heading. */
export function showSection({ focus = false } = {}) {
  shown = true;
  current = fromAddress() || current;
  const name = current;
  show(byId('section-nav'));
  for (const [key, section] of Object.entries(SECTIONS)) {
    show(byId(section.view), key === name);
    const link = byId(section.link);
    if (key === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  SECTIONS[name].load();
  if (focus) byId(SECTIONS[name].title).focus();
}

/** Hides every section and the navigation (signed out, or the forced password change). */
export function hideSections() {
  shown = false;
  show(byId('section-nav'), false);
  for (const section of Object.values(SECTIONS)) show(byId(section.view), false);
}

/** Follows the address while a section is shown. */
export function initSections() {
  window.addEventListener('hashchange', () => {
    const next = fromAddress();
    if (shown && next && next !== current) showSection({ focus: true });
  });
}
