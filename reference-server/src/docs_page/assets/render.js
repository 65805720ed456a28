// Builds the reference from an OpenAPI document. Every value from the document reaches the
// page as a text node or an attribute value (through dom.js): nothing is parsed as HTML.

import { append, h } from './dom.js';
import {
  componentSchemaName, constraints, deref, describeScheme, describeSchema, documentedExamples,
  enumOf, exampleFor, groupOperations, isObject, objectShape, operations, refName, safeHref,
  schemaAnchor, securityAnchor, securityOf, statusClass, typeLabel,
} from './openapi.js';

/** Where the raw document is served; the page links it. */
export const DOCUMENT_URL = '/v1/openapi.json';

/**
 * Renders the whole document. Returns `{ content, toc, ops }`: the main column, the table of
 * contents, and one `{ op, section, tocItem }` per operation for the filter.
 */
export function renderDocument(doc) {
  const ops = operations(doc);
  const groups = groupOperations(ops);
  const schemas = componentSchemas(doc);
  const ctx = { doc, schemas };

  const content = h('div', { class: 'doc' },
    overview(doc),
    authentication(doc),
  );
  const tocOps = h('div', { class: 'toc-ops' });
  const entries = [];
  const opsSection = h('section', { class: 'ops', 'aria-labelledby': 'operations-title' },
    h('h2', { id: 'operations-title', class: 'section-title' }, 'Operations'),
    h('p', { id: 'no-match', class: 'muted', hidden: true }, 'No operation matches the filter.'),
  );
  for (const group of groups) {
    const groupId = group.name === null ? null : `group-${entries.length}`;
    const groupSection = h('section', {
      class: 'op-group',
      'aria-labelledby': groupId,
    }, group.name === null ? null : h('h2', { id: groupId, class: 'group-title' }, group.name));
    const list = h('ul', { class: 'toc-list' });
    const tocGroup = h('div', { class: 'toc-group' },
      group.name === null ? null : h('p', { class: 'toc-group-title' }, group.name),
      list);
    const groupEntry = { section: groupSection, toc: tocGroup };
    for (const o of group.ops) {
      const section = operation(ctx, o);
      const tocItem = h('li', {},
        h('a', { href: `#${o.anchor}`, class: 'toc-op' },
          methodBadge(o.method),
          h('span', { class: 'toc-op-text' },
            h('span', { class: 'toc-path' }, pathText(o.path)),
            typeof o.op.summary === 'string' ? h('span', { class: 'toc-summary' }, o.op.summary) : null)));
      add(groupSection, section);
      add(list, tocItem);
      entries.push({ op: o, section, tocItem, group: groupEntry });
    }
    add(opsSection, groupSection);
    add(tocOps, tocGroup);
  }
  add(content, opsSection);

  const schemaEntries = [];
  if (schemas.length) {
    const section = h('section', { class: 'schemas', 'aria-labelledby': 'schemas-title' },
      h('h2', { id: 'schemas-title', class: 'section-title' }, 'Schemas'));
    const list = h('ul', { class: 'toc-list' });
    for (const [name, schema] of schemas) {
      const block = h('section', { class: 'schema', id: schemaAnchor(name), 'aria-labelledby': `${schemaAnchor(name)}-title` },
        h('h3', { id: `${schemaAnchor(name)}-title`, class: 'schema-title', tabindex: '-1' },
          h('code', {}, name),
          anchorLink(schemaAnchor(name), `Link to the ${name} schema`)),
        schemaBlock(ctx, schema, { expandRefs: true, trail: new Set([`#/components/schemas/${name}`]) }),
        exampleBlock(exampleFor(doc, schema), true));
      add(section, block);
      const tocItem = h('li', {}, h('a', { href: `#${schemaAnchor(name)}`, class: 'toc-schema' }, name));
      add(list, tocItem);
      schemaEntries.push({ name, section: block, tocItem });
    }
    add(content, section);
    add(tocOps, h('div', { class: 'toc-group' }, h('p', { class: 'toc-group-title' }, 'Schemas'), list));
  }

  const toc = h('div', { class: 'toc-body' },
    h('ul', { class: 'toc-list toc-top' },
      h('li', {}, h('a', { href: '#overview' }, 'Overview')),
      hasSecuritySchemes(doc) ? h('li', {}, h('a', { href: '#authentication' }, 'Authentication')) : null),
    tocOps);
  return { content, toc, ops: entries, schemas: schemaEntries };
}

function componentSchemas(doc) {
  const all = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  return Object.entries(all);
}

function hasSecuritySchemes(doc) {
  return isObject(doc.components) && isObject(doc.components.securitySchemes)
    && Object.keys(doc.components.securitySchemes).length > 0;
}

// ------------------------------------------------------------------ text

/** Appends children (nodes, strings as text, arrays), skipping `null` and `false`. */
function add(parent, ...children) {
  return append(parent, children);
}

/** A path with line-break opportunities after each `/`, so long paths wrap between segments. */
function pathText(path) {
  return String(path).split('/').flatMap((seg, i) => (i === 0 ? [seg] : [h('wbr'), `/${seg}`]));
}

/**
 * Description text: paragraphs split on blank lines, `code` spans between backticks. Anything
 * else stays literal text.
 */
export function prose(text, className = 'prose') {
  if (typeof text !== 'string' || !text.trim()) return null;
  const wrap = h('div', { class: className });
  for (const para of text.split(/\n\s*\n/)) {
    if (!para.trim()) continue;
    add(wrap, h('p', {}, inline(para)));
  }
  return wrap;
}

function inline(text) {
  const parts = text.split('`');
  // An odd number of parts means balanced backticks; otherwise keep the text literal.
  if (parts.length % 2 === 0) return [text];
  return parts.map((part, i) => (i % 2 === 1 ? h('code', {}, part) : part));
}

function methodBadge(method) {
  return h('span', { class: `method method-${method}` }, method.toUpperCase());
}

function anchorLink(id, label) {
  return h('a', { class: 'anchor', href: `#${id}`, 'aria-label': label, title: label }, '#');
}

function facts(rows) {
  const dl = h('dl', { class: 'facts' });
  for (const [term, ...value] of rows) {
    if (value.every((v) => v === null || v === undefined)) continue;
    add(dl, h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value)));
  }
  return dl.childElementCount ? dl : null;
}

// ------------------------------------------------------------------ overview

function overview(doc) {
  const info = isObject(doc.info) ? doc.info : {};
  const servers = Array.isArray(doc.servers) ? doc.servers.filter(isObject) : [];
  const section = h('section', { id: 'overview', class: 'overview', 'aria-labelledby': 'doc-title' },
    h('div', { class: 'title-row' },
      h('h1', { id: 'doc-title', tabindex: '-1' }, typeof info.title === 'string' ? info.title : 'API reference'),
      typeof info.version === 'string' ? h('span', { class: 'pill', title: 'API version' }, `v${info.version}`) : null,
      typeof doc.openapi === 'string' ? h('span', { class: 'pill muted-pill', title: 'OpenAPI version' }, `OpenAPI ${doc.openapi}`) : null),
    prose(info.description, 'prose lead'),
    h('p', { class: 'raw-link' },
      'Machine-readable: ',
      h('a', { href: DOCUMENT_URL, id: 'document-link', type: 'application/json' }, h('code', {}, DOCUMENT_URL)),
      ' (the document this page renders).'));
  if (servers.length) {
    const list = h('ul', { class: 'servers' });
    for (const server of servers) {
      const url = typeof server.url === 'string' ? server.url : '';
      const absolute = safeHref(url, window.location.href);
      add(list, h('li', {},
        h('code', {}, url),
        absolute && absolute !== url ? h('span', { class: 'muted' }, ` → ${absolute}`) : null,
        typeof server.description === 'string' ? h('span', { class: 'muted' }, ` — ${server.description}`) : null));
    }
    add(section, h('h2', { class: 'sub-title' }, servers.length > 1 ? 'Servers' : 'Server'), list);
  }
  const contact = isObject(info.contact) ? info.contact : null;
  const license = isObject(info.license) ? info.license : null;
  const contactHref = contact && (safeHref(contact.url, window.location.href)
    || (typeof contact.email === 'string' ? safeHref(`mailto:${contact.email}`) : null));
  const licenseHref = license && safeHref(license.url, window.location.href);
  const more = facts([
    ['Contact', contact ? (contactHref ? h('a', { href: contactHref }, contact.name || contact.email || contactHref) : contact.name) : null],
    ['License', license ? (licenseHref ? h('a', { href: licenseHref }, license.name || licenseHref) : license.name) : null],
  ]);
  if (more) add(section, more);
  return section;
}

function authentication(doc) {
  if (!hasSecuritySchemes(doc)) return null;
  const list = h('dl', { class: 'schemes' });
  for (const [name, raw] of Object.entries(doc.components.securitySchemes)) {
    const scheme = deref(doc, raw).value;
    add(list, h('div', { class: 'scheme', id: securityAnchor(name) },
      h('dt', {}, h('code', {}, name)),
      h('dd', {}, h('p', {}, describeScheme(scheme)), prose(isObject(scheme) ? scheme.description : null))));
  }
  return h('section', { id: 'authentication', class: 'authentication', 'aria-labelledby': 'authentication-title' },
    h('h2', { id: 'authentication-title', class: 'section-title', tabindex: '-1' }, 'Authentication'),
    list);
}

// ------------------------------------------------------------------ operations

function operation(ctx, o) {
  const { doc } = ctx;
  const op = o.op;
  const titleId = `${o.anchor}-title`;
  const section = h('section', {
    class: 'operation',
    id: o.anchor,
    'aria-labelledby': titleId,
    'data-method': o.method,
    'data-path': o.path,
  },
  h('h3', { id: titleId, class: 'op-title', tabindex: '-1' },
    methodBadge(o.method),
    h('code', { class: 'path' }, pathText(o.path)),
    anchorLink(o.anchor, `Link to ${o.method.toUpperCase()} ${o.path}`)),
  typeof op.summary === 'string' ? h('p', { class: 'summary' }, op.summary) : null,
  op.deprecated === true ? h('p', { class: 'notice warn' }, 'Deprecated.') : null,
  prose(op.description),
  facts([
    ['Authentication', authRequirement(doc, op)],
    ['Operation id', typeof op.operationId === 'string' ? h('code', {}, op.operationId) : null],
  ]));
  if (o.parameters.length) add(section, parameters(ctx, o.parameters));
  const body = deref(doc, op.requestBody).value;
  if (isObject(body)) add(section, requestBody(ctx, body));
  add(section, responses(ctx, op.responses));
  return section;
}

function authRequirement(doc, op) {
  const alternatives = securityOf(doc, op);
  if (!alternatives.length) return h('span', { class: 'auth-none' }, 'None');
  const out = h('span', { class: 'auth' });
  alternatives.forEach((alternative, i) => {
    if (i > 0) add(out, ' or ');
    alternative.forEach((req, j) => {
      if (j > 0) add(out, ' and ');
      add(out, 
        h('a', { href: `#${securityAnchor(req.name)}` }, describeScheme(req.scheme)),
        req.scopes.length ? ` (scopes: ${req.scopes.join(', ')})` : '',
      );
    });
  });
  return out;
}

function parameters(ctx, params) {
  const list = h('ul', { class: 'fields' });
  for (const p of params) {
    const schema = isObject(p.schema) ? p.schema : undefined;
    add(list, field(ctx, {
      name: String(p.name),
      where: String(p.in),
      required: p.required === true || p.in === 'path',
      schema,
      description: typeof p.description === 'string' ? p.description : describeSchema(ctx.doc, schema),
      deprecated: p.deprecated === true,
    }, new Set()));
  }
  return h('div', { class: 'block parameters' }, h('h4', {}, 'Parameters'), list);
}

function requestBody(ctx, body) {
  const block = h('div', { class: 'block request-body' },
    h('h4', {}, 'Request body', body.required === true ? h('span', { class: 'req' }, 'required') : h('span', { class: 'opt' }, 'optional')),
    prose(body.description));
  for (const [type, media] of Object.entries(isObject(body.content) ? body.content : {})) {
    add(block, mediaBlock(ctx, type, media));
  }
  return block;
}

function responses(ctx, all) {
  const block = h('div', { class: 'block responses' }, h('h4', {}, 'Responses'));
  const entries = isObject(all) ? Object.entries(all) : [];
  entries.sort(([a], [b]) => String(a).localeCompare(String(b)));
  for (const [code, raw] of entries) {
    const resolved = deref(ctx.doc, raw);
    const res = isObject(resolved.value) ? resolved.value : {};
    const item = h('section', { class: `response status-${statusClass(code)}`, 'data-status': code },
      h('h5', { class: 'response-title' },
        h('span', { class: `status status-${statusClass(code)}` }, code),
        h('span', { class: 'response-summary' }, firstLine(res.description))),
      restOf(res.description));
    if (isObject(res.headers) && Object.keys(res.headers).length) {
      const list = h('ul', { class: 'fields' });
      for (const [name, rawHeader] of Object.entries(res.headers)) {
        const header = deref(ctx.doc, rawHeader).value;
        const schema = isObject(header) && isObject(header.schema) ? header.schema : undefined;
        add(list, field(ctx, {
          name, where: 'header', required: isObject(header) && header.required === true, schema,
          description: isObject(header) && typeof header.description === 'string' ? header.description : '',
        }, new Set()));
      }
      add(item, h('p', { class: 'label' }, 'Headers'), list);
    }
    for (const [type, media] of Object.entries(isObject(res.content) ? res.content : {})) {
      add(item, mediaBlock(ctx, type, media));
    }
    add(block, item);
  }
  return block;
}

function firstLine(text) {
  if (typeof text !== 'string') return '';
  const [first] = text.split(/\n\s*\n/);
  return inline(first.trim());
}

function restOf(text) {
  if (typeof text !== 'string') return null;
  const paras = text.split(/\n\s*\n/).slice(1).join('\n\n');
  return prose(paras);
}

function mediaBlock(ctx, type, media) {
  const m = isObject(media) ? media : {};
  const examples = documentedExamples(ctx.doc, m);
  const wrap = h('div', { class: 'media' }, h('p', { class: 'label' }, 'Content type ', h('code', {}, type)));
  if (isObject(m.schema) || typeof m.schema === 'boolean') {
    add(wrap, schemaBlock(ctx, m.schema, { expandRefs: true, trail: new Set() }));
  }
  if (examples.length) {
    for (const ex of examples) add(wrap, exampleBlock(ex.value, false, ex.title));
  } else if (isObject(m.schema)) {
    add(wrap, exampleBlock(exampleFor(ctx.doc, m.schema), true));
  }
  return wrap;
}

function exampleBlock(value, generated, title = null) {
  if (value === undefined) return null;
  const label = title ? `Example: ${title}` : generated ? 'Example (built from the schema)' : 'Example';
  return h('details', { class: 'example' },
    h('summary', {}, label),
    h('pre', { tabindex: '0' }, h('code', {}, JSON.stringify(value, null, 2))));
}

// ------------------------------------------------------------------ schemas

/**
 * A schema: its type line, description, constraints and enumeration, then its fields when it
 * is an object (or an array of objects). `opts.expandRefs` shows a referenced schema's fields in
 * place; nested references expand on demand. `opts.trail` holds the references already being
 * shown, so a recursive schema ends in a link.
 */
function schemaBlock(ctx, schema, opts) {
  const { doc } = ctx;
  const resolved = deref(doc, schema);
  const target = resolved.value;
  const wrap = h('div', { class: 'schema-view' });
  add(wrap, h('p', { class: 'type-line' },
    h('span', { class: 'label' }, 'Schema '),
    typeRef(ctx, schema)));
  if (resolved.broken) {
    add(wrap, h('p', { class: 'notice warn' }, `The reference ${resolved.ref} does not resolve.`));
    return wrap;
  }
  if (!isObject(target)) return wrap;
  const own = isObject(schema) && typeof schema.description === 'string' ? schema.description : null;
  add(wrap, prose(own ?? target.description));
  add(wrap, constraintList(target));
  add(wrap, enumList(target));
  if (resolved.ref && opts.trail.has(resolved.ref)) return wrap;
  const trail = new Set(opts.trail);
  if (resolved.ref) trail.add(resolved.ref);
  add(wrap, fieldsOf(ctx, target, trail));
  for (const key of ['oneOf', 'anyOf']) {
    if (Array.isArray(target[key])) {
      const list = h('ol', { class: 'variants' });
      for (const variant of target[key]) {
        add(list, h('li', {}, schemaBlock(ctx, variant, { expandRefs: true, trail })));
      }
      add(wrap, h('p', { class: 'label' }, key === 'oneOf' ? 'Exactly one of' : 'Any of'), list);
    }
  }
  return wrap;
}

/** The fields of an object schema (or of an array's items), or `null`. */
function fieldsOf(ctx, target, trail) {
  let shape = objectShape(ctx.doc, target);
  let intro = null;
  if (!shape && isObject(target) && 'items' in target) {
    const items = deref(ctx.doc, target.items);
    if (items.ref && trail.has(items.ref)) return null;
    shape = objectShape(ctx.doc, target.items);
    if (shape) {
      intro = 'Each item';
      if (items.ref) trail = new Set([...trail, items.ref]);
    }
  }
  if (!shape) return null;
  const list = h('ul', { class: 'fields' });
  for (const [name, sub] of Object.entries(shape.properties)) {
    add(list, field(ctx, {
      name,
      where: null,
      required: shape.required.includes(name),
      schema: sub,
      description: describeSchema(ctx.doc, sub),
      deprecated: isObject(sub) && sub.deprecated === true,
    }, trail));
  }
  let extra = null;
  if (shape.additional === false) {
    extra = h('p', { class: 'muted closed' }, 'No other fields.');
  } else if (isObject(shape.additional) || shape.additional === true) {
    extra = h('p', { class: 'muted' }, 'Other fields: ',
      typeRef(ctx, shape.additional === true ? {} : shape.additional));
  }
  return h('div', { class: 'fields-wrap' }, intro ? h('p', { class: 'label' }, intro) : null, list, extra);
}

/** One field, parameter or header: name, type, required, constraints, description, nested. */
function field(ctx, f, trail) {
  const { doc } = ctx;
  const resolved = deref(doc, f.schema);
  const target = isObject(resolved.value) ? resolved.value : {};
  const item = h('li', { class: 'field', 'data-field': f.name },
    h('div', { class: 'field-head' },
      h('code', { class: 'field-name' }, f.name),
      f.where ? h('span', { class: 'where' }, f.where) : null,
      h('span', { class: 'field-type' }, typeRef(ctx, f.schema)),
      f.required ? h('span', { class: 'req' }, 'required') : h('span', { class: 'opt' }, 'optional'),
      f.deprecated ? h('span', { class: 'opt' }, 'deprecated') : null),
    constraintList(target),
    enumList(target),
    prose(f.description, 'prose field-desc'));
  add(item, nested(ctx, f.schema, trail));
  return item;
}

/** A nested object (or array of objects): expanded on demand inside a disclosure. */
function nested(ctx, schema, trail) {
  const { doc } = ctx;
  let resolved = deref(doc, schema);
  let target = resolved.value;
  let label = 'fields';
  if (isObject(target) && !objectShape(doc, target) && 'items' in target) {
    resolved = deref(doc, target.items);
    target = resolved.value;
    label = 'item fields';
  }
  if (!isObject(target) || !objectShape(doc, target)) return null;
  if (resolved.ref && trail.has(resolved.ref)) return null;
  const name = resolved.ref ? refName(resolved.ref) : null;
  const details = h('details', { class: 'nested' },
    h('summary', {}, name ? `${name} ${label}` : `Show ${label}`));
  details.addEventListener('toggle', () => {
    if (!details.open || details.dataset.filled) return;
    details.dataset.filled = 'true';
    const next = new Set(trail);
    if (resolved.ref) next.add(resolved.ref);
    add(details, fieldsOf(ctx, target, next) ?? h('p', { class: 'muted' }, 'No fields.'));
  });
  return details;
}

/** The type label; a reference to a component schema becomes a link to it. */
function typeRef(ctx, schema) {
  const label = typeLabel(ctx.doc, schema);
  const link = (name) => (ctx.schemas.some(([n]) => n === name)
    ? h('a', { href: `#${schemaAnchor(name)}`, class: 'type-link' }, name)
    : name);
  if (isObject(schema)) {
    const own = componentSchemaName(schema.$ref);
    if (own) return h('span', {}, link(own));
    const item = isObject(schema.items) ? componentSchemaName(schema.items.$ref) : null;
    const at = item ? label.indexOf(`array of ${item}`) : -1;
    if (at >= 0) {
      const end = at + `array of ${item}`.length;
      return h('span', {}, label.slice(0, at), 'array of ', link(item), label.slice(end));
    }
  }
  return h('span', {}, label);
}

function constraintList(schema) {
  const items = constraints(schema);
  if (!items.length) return null;
  return h('ul', { class: 'constraints' },
    items.map(({ label, value }) => h('li', {}, h('span', { class: 'c-label' }, label), ' ', h('code', {}, value))));
}

function enumList(schema) {
  const values = enumOf(schema);
  if (!values) return null;
  return h('p', { class: 'enum' },
    h('span', { class: 'c-label' }, values.length === 1 ? 'only' : 'one of'), ' ',
    values.flatMap((v, i) => [i ? ' ' : null, h('code', { class: 'enum-value' }, JSON.stringify(v))]));
}
