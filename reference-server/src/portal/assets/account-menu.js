// The account menu of the header (`#account`, `#account-button`, `#account-menu`): a disclosure
// that opens on its button, moves focus to its first item, and closes on Escape, on a click
// elsewhere, when focus leaves it, and when one of its items is chosen. Shared by the partner
// portal and the staff console.

import { byId } from './dom.js';

/** Closes the menu. */
export function closeAccountMenu() {
  byId('account-menu').hidden = true;
  byId('account-button').setAttribute('aria-expanded', 'false');
}

/** Wires the menu; `onSignOut()` runs when `#sign-out` is chosen. */
export function initAccountMenu({ onSignOut }) {
  const account = byId('account');
  const button = byId('account-button');
  const menu = byId('account-menu');
  button.addEventListener('click', () => {
    const open = menu.hidden;
    menu.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) menu.querySelector('button')?.focus();
  });
  account.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      closeAccountMenu();
      button.focus();
    }
  });
  account.addEventListener('focusout', (event) => {
    if (!account.contains(event.relatedTarget)) closeAccountMenu();
  });
  document.addEventListener('click', (event) => {
    if (!account.contains(event.target)) closeAccountMenu();
  });
  for (const item of menu.querySelectorAll('button')) item.addEventListener('click', closeAccountMenu);
  byId('sign-out').addEventListener('click', () => onSignOut());
}
