// Light, dark, or the system's choice (the default), remembered in this browser.

import { byId } from './dom.js';

const THEME_KEY = 'idunox.portal.theme';
const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function storedChoice() {
  try {
    const value = localStorage.getItem(THEME_KEY);
    return value === 'dark' || value === 'light' ? value : 'system';
  } catch {
    return 'system';
  }
}

function apply(choice) {
  const theme = choice === 'system' ? (darkQuery.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = theme;
  document.documentElement.dataset.themeChoice = choice;
  byId('theme-select').value = choice;
}

/** Applies the remembered choice and follows the system while "System" is chosen. */
export function initTheme() {
  apply(storedChoice());
  darkQuery.addEventListener('change', () => apply(storedChoice()));
  byId('theme-select').addEventListener('change', (event) => {
    const choice = event.currentTarget.value;
    try {
      if (choice === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, choice);
    } catch {
      // Storage may be disabled: the choice then lasts for this page only.
    }
    apply(['light', 'dark'].includes(choice) ? choice : 'system');
  });
}
