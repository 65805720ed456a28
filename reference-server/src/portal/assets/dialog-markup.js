// The dialogs both pages have, built by script from one description instead of written out in
// each page's HTML: the session dialog (password, and on the staff console a TOTP code), the
// revoke confirmation and the key editor (name, scopes, allowed addresses). Built with `h`
// (dom.js): elements and attributes only, no HTML parsing, no inline style or handler, so the
// strict Content-Security-Policy holds. Each page calls `addDialogs` before `initDialogs`.

import { h } from './dom.js';

/**
 * A labelled form field: `<label>`, the control, an optional hint and its error box
 * (`<id>-hint`, `<id>-error`, both named by `aria-describedby`, as `fieldError` expects).
 */
export function field({ id, label, control = 'input', attrs = {}, hint = null, fieldId = null }) {
  const describedBy = [hint ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' ');
  return h(
    'div',
    { class: 'field', id: fieldId },
    h('label', { for: id }, label),
    h(control, { id, 'aria-describedby': describedBy, ...attrs }),
    hint ? h('p', { id: `${id}-hint`, class: 'hint' }, hint) : null,
    h('p', { id: `${id}-error`, class: 'field-error', hidden: true }),
  );
}

/** A dialog's form: title, text, the error notice, then `body` and the action buttons. */
function dialogForm(prefix, { titleClass = 'dialog-title', text = null, body = [], actions }) {
  return h(
    'form',
    { id: `${prefix}-form`, class: 'form', novalidate: true },
    h('h2', { id: `${prefix}-title`, class: titleClass }),
    text,
    h('div', { id: `${prefix}-error`, class: 'notice error', role: 'alert', hidden: true }),
    body,
    h('div', { class: 'dialog-actions' }, actions),
  );
}

/** A radio choice of a restriction's mode (`any` or `only`). */
function modeChoice(name, id, value, label) {
  return h('label', { class: 'inline-choice' }, h('input', { type: 'radio', name, id, value }), ` ${label}`);
}

/**
 * The restriction fields of a key form, ids under `prefix` (`<prefix>-scopes-…`,
 * `<prefix>-ips-…`): scopes from the catalogue (filled by restrictions.js) and allowed address
 * blocks, each "any" or "only these".
 */
export function restrictionFields(prefix) {
  return [
    h(
      'fieldset',
      { id: `${prefix}-scopes-set`, class: 'choices' },
      h('legend', {}, 'Scopes'),
      h(
        'div',
        { class: 'choice-row' },
        modeChoice(`${prefix}-scopes-mode`, `${prefix}-scopes-any`, 'any', 'Any scope (unrestricted)'),
        modeChoice(`${prefix}-scopes-mode`, `${prefix}-scopes-only`, 'only', 'Only these scopes'),
      ),
      h('div', { id: `${prefix}-scopes-list`, class: 'scope-list' }),
      h('p', { id: `${prefix}-scopes-error`, class: 'field-error', role: 'alert', hidden: true }),
    ),
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', {}, 'Allowed addresses'),
      h(
        'div',
        { class: 'choice-row' },
        modeChoice(`${prefix}-ips-mode`, `${prefix}-ips-any`, 'any', 'Any address'),
        modeChoice(`${prefix}-ips-mode`, `${prefix}-ips-only`, 'only', 'Only these addresses'),
      ),
      field({
        id: `${prefix}-ips`,
        fieldId: `${prefix}-ips-field`,
        label: 'Address blocks, one per line',
        control: 'textarea',
        attrs: { rows: 4, spellcheck: 'false', autocomplete: 'off' },
        hint: 'IPv4 or IPv6 CIDR blocks such as 203.0.113.0/24 or 2001:db8::/48; a bare address means that one host. Up to 50.',
      }),
    ),
  ];
}

/** The session dialog: the warning before the end and the request to sign in again. */
function sessionDialog({ code }) {
  return h(
    'dialog',
    {
      id: 'session-dialog',
      class: 'dialog session-dialog',
      role: 'alertdialog',
      'aria-labelledby': 'session-title',
      'aria-describedby': 'session-text',
    },
    dialogForm('session', {
      titleClass: null,
      text: h('p', { id: 'session-text' }),
      body: [
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'session-password' }, 'Password for ', h('span', { id: 'session-email', class: 'session-email' })),
          h('input', {
            id: 'session-password',
            type: 'password',
            autocomplete: 'current-password',
            required: true,
            'aria-describedby': 'session-password-error',
          }),
          h('p', { id: 'session-password-error', class: 'field-error', hidden: true }),
        ),
        code
          ? field({
              id: 'session-totp',
              label: 'Authentication code',
              attrs: {
                class: 'totp',
                type: 'text',
                inputmode: 'numeric',
                autocomplete: 'one-time-code',
                pattern: '[0-9]{6}',
                maxlength: 6,
                required: true,
                spellcheck: 'false',
              },
              hint: 'A fresh 6-digit code: the one you signed in with does not work twice.',
            })
          : null,
      ],
      actions: [
        h('button', { id: 'session-signout', class: 'button', type: 'button' }, 'Sign out'),
        h('button', { id: 'session-later', class: 'button', type: 'button' }, 'Not now'),
        h('button', { id: 'session-submit', class: 'button primary', type: 'submit' }, 'Stay signed in'),
      ],
    }),
  );
}

/** The confirmation before a key is revoked (its title and text are set when it opens). */
function revokeDialog() {
  return h(
    'dialog',
    { id: 'revoke-dialog', class: 'dialog', 'aria-labelledby': 'revoke-title', 'aria-describedby': 'revoke-text' },
    dialogForm('revoke', {
      text: h('p', { id: 'revoke-text', class: 'dialog-title' }),
      actions: [
        h('button', { id: 'revoke-cancel', class: 'button', type: 'button', 'data-close': true }, 'Cancel'),
        h('button', { id: 'revoke-submit', class: 'button danger', type: 'submit' }, 'Revoke key'),
      ],
    }),
  );
}

/** The key editor: its name and, where the page offers them, its restrictions (PATCH). */
function editDialog({ restrictions }) {
  return h(
    'dialog',
    {
      id: 'edit-dialog',
      class: 'dialog edit-dialog',
      'aria-labelledby': 'edit-title',
      'aria-describedby': 'edit-text',
    },
    dialogForm('edit', {
      text: h('p', { id: 'edit-text', class: 'muted dialog-title' }),
      body: [
        field({
          id: 'edit-name',
          label: 'Name',
          attrs: { name: 'name', type: 'text', maxlength: 100, autocomplete: 'off' },
          hint: 'Up to 100 characters. Leave empty for an unnamed key.',
        }),
        restrictions ? restrictionFields('edit') : null,
      ],
      actions: [
        h('button', { class: 'button', type: 'button', 'data-close': true }, 'Cancel'),
        h('button', { id: 'edit-submit', class: 'button primary', type: 'submit' }, 'Save changes'),
      ],
    }),
  );
}

/**
 * Adds the shared dialogs to the page's `<body>`. `code`: the session dialog asks for a TOTP
 * code too (staff). `restrictions`: the key editor edits scopes and allowed addresses.
 */
export function addDialogs({ code = false, restrictions = true } = {}) {
  document.body.append(revokeDialog(), editDialog({ restrictions }), sessionDialog({ code }));
}
