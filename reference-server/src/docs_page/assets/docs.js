// The API reference page: loads the server's OpenAPI document, renders it, and wires the
// filter, the theme choice and in-page navigation.

import { byId, clear, h, show } from './dom.js';
import { matchesQuery, searchText } from './openapi.js';
import { DOCUMENT_URL, renderDocument } from './render.js';

const THEME_KEY = 'idunox.docs.theme';
const THEMES = ['system', 'light', 'dark'];

// ---------------------------------------------------------------- theme

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function storedTheme() {
  try {
    const t = localStorage.getItem(THEME_KEY);
    return THEMES.includes(t) ? t : 'system';
  } catch {
    return 'system';
  }
}

function applyTheme(choice) {
  const effective = choice === 'system' ? (darkQuery.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = effective;
  document.documentElement.dataset.themeChoice = choice;
}

function initTheme() {
  const select = byId('theme-select');
  const choice = storedTheme();
  select.value = choice;
  applyTheme(choice);
  select.addEventListener('change', () => {
    const next = THEMES.includes(select.value) ? select.value : 'system';
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // Storage may be unavailable (private mode): the choice lasts for this page only.
    }
    applyTheme(next);
  });
  darkQuery.addEventListener('change', () => applyTheme(storedTheme()));
}

// ---------------------------------------------------------------- filter

function initFilter(rendered) {
  const input = byId('filter');
  const count = byId('filter-count');
  const noMatch = byId('no-match');
  const ops = rendered.ops.map((entry) => ({ ...entry, text: searchText(entry.op) }));
  const groups = [...new Set(ops.map((e) => e.group))];

  const apply = () => {
    const query = input.value.trim();
    let shown = 0;
    for (const entry of ops) {
      const visible = matchesQuery(entry.text, query);
      show(entry.section, visible);
      show(entry.tocItem, visible);
      if (visible) shown += 1;
    }
    for (const group of groups) {
      const any = ops.some((e) => e.group === group && !e.section.hidden);
      show(group.section, any);
      show(group.toc, any);
    }
    let schemasShown = 0;
    for (const entry of rendered.schemas) {
      const visible = matchesQuery(entry.name.toLowerCase(), query);
      show(entry.section, visible);
      show(entry.tocItem, visible);
      if (visible) schemasShown += 1;
    }
    show(noMatch, shown === 0);
    count.textContent = query
      ? `${shown} of ${ops.length} operations, ${schemasShown} of ${rendered.schemas.length} schemas`
      : `${ops.length} operations, ${rendered.schemas.length} schemas`;
  };

  input.addEventListener('input', apply);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value) {
      input.value = '';
      apply();
    }
  });
  // "/" jumps to the filter from anywhere but a text field.
  document.addEventListener('keydown', (event) => {
    const el = document.activeElement;
    const typing = el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
    if (event.key === '/' && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
  input.disabled = false;
  apply();
}

// ---------------------------------------------------------------- navigation

/** Scrolls to the section a fragment names and moves focus to its heading. */
function reveal(hash) {
  if (!hash || hash.length < 2) return;
  let id;
  try {
    id = decodeURIComponent(hash.slice(1));
  } catch {
    return;
  }
  const target = document.getElementById(id);
  if (!target) return;
  const heading = target.matches('h1, h2, h3') ? target : target.querySelector('h1, h2, h3');
  target.scrollIntoView({ block: 'start' });
  if (heading && heading.hasAttribute('tabindex')) heading.focus({ preventScroll: true });
}

// ---------------------------------------------------------------- load

async function load() {
  const loading = byId('loading');
  const error = byId('load-error');
  const content = byId('content');
  show(loading, true);
  show(error, false);
  let doc;
  try {
    const res = await fetch(DOCUMENT_URL, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    doc = await res.json();
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new Error('the answer is not an OpenAPI document');
    }
  } catch (e) {
    show(loading, false);
    clear(error).append(
      `The API description could not be loaded (${e instanceof Error ? e.message : String(e)}). `,
      retryButton(),
    );
    show(error, true);
    return;
  }
  const rendered = renderDocument(doc);
  clear(content).append(rendered.content);
  clear(byId('toc-list')).append(rendered.toc);
  show(loading, false);
  if (typeof doc.info?.title === 'string') document.title = `${doc.info.title} · API reference`;
  initFilter(rendered);
  document.documentElement.dataset.rendered = 'true';
  reveal(window.location.hash);
}

function retryButton() {
  const button = h('button', { type: 'button', class: 'button' }, 'Retry');
  button.addEventListener('click', () => load());
  return button;
}

initTheme();
window.addEventListener('hashchange', () => reveal(window.location.hash));
load();
