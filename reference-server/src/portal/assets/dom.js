// DOM helpers. Every value that comes from the API reaches the page through these helpers,
// as text nodes or attribute values: nothing is ever parsed as HTML.

/** Returns the element with this id, or throws: the page and the script ship together. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing element #${id}`);
  return el;
}

/**
 * Creates an element. `attrs` are set with setAttribute (event handlers and inline styles are
 * refused: the page runs under a strict Content-Security-Policy); `children` are nodes or
 * strings, strings become text nodes.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    const lower = name.toLowerCase();
    if (lower.startsWith('on') || lower === 'style') {
      throw new Error(`refused attribute ${name}`);
    }
    el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends nodes or strings (as text) to a parent, skipping null and false; nested lists are flattened. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Removes every child of an element. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Shows or hides an element with the `hidden` attribute. */
export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Puts a message in a notice box (as text) and shows it; an empty message hides it. */
export function notice(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

/**
 * Marks a form field as invalid with a message in its own error element (`<id>-error`, already
 * named by the field's `aria-describedby`), or clears it when `message` is empty.
 */
export function fieldError(input, message) {
  const box = document.getElementById(`${input.id}-error`);
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  if (box) notice(box, message);
}

/** Clears every field error inside a form. */
export function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('[aria-invalid]')) fieldError(input, '');
}
