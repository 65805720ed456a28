// Reading an OpenAPI 3.x document: references, operations, security, constraints and examples.
// Pure functions over the parsed JSON; nothing here touches the page.

/** The HTTP methods an OpenAPI path item may hold, in the order the page lists them. */
export const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'options', 'head', 'trace'];

/** How deep the example generator descends before it gives up on a branch. */
const MAX_EXAMPLE_DEPTH = 8;

/** Whether a value is a plain JSON object (not null, not an array). */
export function isObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Resolves a local reference such as `#/components/schemas/Credential` (JSON Pointer, with
 * `~1` for `/` and `~0` for `~`). Returns `undefined` when it does not resolve; references to
 * other documents are not followed.
 */
export function resolvePointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
  if (ref === '#' || ref === '#/') return doc;
  if (!ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    let key;
    try {
      key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** The name a reference is shown by: its last segment (`Credential`). */
export function refName(ref) {
  const last = String(ref).split('/').pop() || String(ref);
  return last.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * Follows a chain of `$ref`s. Returns `{ value, ref, broken }`: the object at the end of the
 * chain, the first reference followed (or `null` when `node` was not a reference), and whether
 * the chain was broken (unresolvable or circular).
 */
export function deref(doc, node) {
  const seen = new Set();
  let first = null;
  let current = node;
  while (isObject(current) && typeof current.$ref === 'string') {
    if (seen.has(current.$ref)) return { value: undefined, ref: first, broken: true };
    seen.add(current.$ref);
    if (first === null) first = current.$ref;
    current = resolvePointer(doc, current.$ref);
  }
  return { value: current, ref: first, broken: first !== null && current === undefined };
}

/** The anchor id of a component schema section. */
export function schemaAnchor(name) {
  return `schema-${slug(name)}`;
}

/** The anchor id of a security scheme entry. */
export function securityAnchor(name) {
  return `security-${slug(name)}`;
}

/** The component schema a reference names, when it is `#/components/schemas/<name>`. */
export function componentSchemaName(ref) {
  const prefix = '#/components/schemas/';
  return typeof ref === 'string' && ref.startsWith(prefix) && !ref.slice(prefix.length).includes('/')
    ? refName(ref)
    : null;
}

/** Letters, digits, `-` and `_` only: safe in an id and in a URL fragment. */
export function slug(text) {
  const s = String(text).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'x';
}

/**
 * Every operation of the document, in document order: `{ path, method, op, parameters, anchor,
 * tags }`. Path-level parameters are merged into each operation's (an operation's own
 * parameter of the same name and location wins); every anchor is unique.
 */
export function operations(doc) {
  const out = [];
  const used = new Set();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(doc, rawItem).value;
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const base = typeof op.operationId === 'string' && op.operationId
        ? `op-${slug(op.operationId)}`
        : `op-${method}-${slug(path)}`;
      let anchor = base;
      for (let n = 2; used.has(anchor); n += 1) anchor = `${base}-${n}`;
      used.add(anchor);
      out.push({
        path,
        method,
        op,
        anchor,
        tags: Array.isArray(op.tags) ? op.tags.filter((t) => typeof t === 'string') : [],
        parameters: mergeParameters(doc, item.parameters, op.parameters),
      });
    }
  }
  return out;
}

function mergeParameters(doc, pathLevel, opLevel) {
  const merged = new Map();
  for (const list of [pathLevel, opLevel]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const p = deref(doc, raw).value;
      if (!isObject(p)) continue;
      merged.set(`${p.in}\u0000${p.name}`, p);
    }
  }
  return [...merged.values()];
}

/**
 * Groups operations by their first tag, in order of first appearance. Without any tag the
 * document reads as one group named `null`.
 */
export function groupOperations(ops) {
  if (!ops.some((o) => o.tags.length)) return [{ name: null, ops }];
  const groups = new Map();
  for (const o of ops) {
    const name = o.tags[0] ?? 'Other';
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(o);
  }
  return [...groups].map(([name, list]) => ({ name, ops: list }));
}

/** The text an operation is filtered by: method, path, summary, operation id and tags. */
export function searchText(o) {
  return [o.method, o.path, o.op.summary, o.op.operationId, ...o.tags]
    .filter((x) => typeof x === 'string')
    .join(' ')
    .toLowerCase();
}

/** Whether a text holds every whitespace-separated term of the query (case-insensitive). */
export function matchesQuery(text, query) {
  const terms = String(query).toLowerCase().split(/\s+/).filter(Boolean);
  return terms.every((t) => text.includes(t));
}

/**
 * The security requirements of an operation as alternatives (any one suffices), each a list of
 * `{ name, scheme, scopes }`. An empty list means no authentication.
 */
export function securityOf(doc, op) {
  const reqs = Array.isArray(op.security) ? op.security : Array.isArray(doc.security) ? doc.security : [];
  const schemes = isObject(doc.components) && isObject(doc.components.securitySchemes)
    ? doc.components.securitySchemes
    : {};
  return reqs
    .filter(isObject)
    .map((req) => Object.entries(req).map(([name, scopes]) => ({
      name,
      scheme: deref(doc, schemes[name]).value,
      scopes: Array.isArray(scopes) ? scopes.map(String) : [],
    })))
    .filter((alternative) => alternative.length > 0);
}

/** One line saying how a security scheme authenticates, e.g. "API key in the X-Api-Key header". */
export function describeScheme(scheme) {
  if (!isObject(scheme)) return 'Unknown scheme';
  switch (scheme.type) {
    case 'http': {
      const kind = String(scheme.scheme || '').toLowerCase();
      if (kind === 'bearer') {
        const format = scheme.bearerFormat ? ` (${scheme.bearerFormat})` : '';
        return `Bearer token${format} in the Authorization header`;
      }
      if (kind === 'basic') return 'HTTP Basic authentication';
      return `HTTP ${scheme.scheme} authentication`;
    }
    case 'apiKey':
      return `API key in the ${scheme.name} ${scheme.in === 'query' ? 'query parameter' : scheme.in}`;
    case 'oauth2':
      return 'OAuth 2.0';
    case 'openIdConnect':
      return 'OpenID Connect';
    case 'mutualTLS':
      return 'Mutual TLS';
    default:
      return String(scheme.type ?? 'Unknown scheme');
  }
}

/** A schema's own description, or the one of the schema it references. */
export function describeSchema(doc, schema) {
  if (isObject(schema) && typeof schema.description === 'string') return schema.description;
  const target = deref(doc, schema).value;
  return isObject(target) && typeof target.description === 'string' ? target.description : '';
}

/**
 * A short type label: `string`, `integer | null`, `array of Credential`, `one of A, B`,
 * `Credential`. References show the referenced name.
 */
export function typeLabel(doc, schema, depth = 0) {
  if (schema === true || schema === undefined) return 'any';
  if (schema === false) return 'nothing';
  if (!isObject(schema)) return 'any';
  if (typeof schema.$ref === 'string') return refName(schema.$ref);
  if (depth > 4) return '…';
  const nullable = schema.nullable === true ? ' | null' : '';
  for (const key of ['oneOf', 'anyOf']) {
    if (Array.isArray(schema[key])) {
      const parts = schema[key].map((s) => typeLabel(doc, s, depth + 1));
      return `${key === 'oneOf' ? 'one of' : 'any of'} ${parts.join(', ')}${nullable}`;
    }
  }
  if (Array.isArray(schema.allOf)) {
    return `all of ${schema.allOf.map((s) => typeLabel(doc, s, depth + 1)).join(', ')}${nullable}`;
  }
  let types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (!types.length) {
    if (isObject(schema.properties)) types = ['object'];
    else if ('items' in schema) types = ['array'];
    else if ('const' in schema) types = [jsonType(schema.const)];
    else if (Array.isArray(schema.enum) && schema.enum.length) {
      types = [...new Set(schema.enum.map(jsonType))];
    }
  }
  if (!types.length) return `any${nullable}`;
  return types
    .map((t) => (t === 'array' && 'items' in schema ? `array of ${typeLabel(doc, schema.items, depth + 1)}` : String(t)))
    .join(' | ') + nullable;
}

function jsonType(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value === 'object' ? 'object' : typeof value;
}

/**
 * The constraints a schema states, as `{ label, value }` pairs to show: format, bounds, lengths,
 * pattern, item counts, default, read/write-only. Enumerations are returned by `enumOf`.
 */
export function constraints(schema) {
  if (!isObject(schema)) return [];
  const out = [];
  const add = (label, value) => out.push({ label, value: typeof value === 'string' ? value : JSON.stringify(value) });
  if (typeof schema.format === 'string') add('format', schema.format);
  const lower = numberBound(schema.minimum, schema.exclusiveMinimum, '≥', '>');
  const upper = numberBound(schema.maximum, schema.exclusiveMaximum, '≤', '<');
  if (lower) add('minimum', lower);
  if (upper) add('maximum', upper);
  if (typeof schema.multipleOf === 'number') add('multiple of', schema.multipleOf);
  if (typeof schema.minLength === 'number') add('min length', schema.minLength);
  if (typeof schema.maxLength === 'number') add('max length', schema.maxLength);
  if (typeof schema.pattern === 'string') add('pattern', schema.pattern);
  if (typeof schema.minItems === 'number') add('min items', schema.minItems);
  if (typeof schema.maxItems === 'number') add('max items', schema.maxItems);
  if (schema.uniqueItems === true) add('items', 'unique');
  if (typeof schema.minProperties === 'number') add('min fields', schema.minProperties);
  if (typeof schema.maxProperties === 'number') add('max fields', schema.maxProperties);
  if ('const' in schema) add('always', schema.const);
  if ('default' in schema) add('default', schema.default);
  if (schema.readOnly === true) add('access', 'read-only');
  if (schema.writeOnly === true) add('access', 'write-only');
  if (schema.deprecated === true) add('status', 'deprecated');
  return out;
}

function numberBound(inclusive, exclusive, incSign, excSign) {
  if (typeof exclusive === 'number') return `${excSign} ${exclusive}`;
  if (typeof inclusive === 'number') {
    // OpenAPI 3.0 wrote exclusivity as a boolean next to the bound.
    return `${exclusive === true ? excSign : incSign} ${inclusive}`;
  }
  return null;
}

/** The values an enumeration allows, or `null` when the schema is not one. */
export function enumOf(schema) {
  return isObject(schema) && Array.isArray(schema.enum) ? schema.enum : null;
}

/** The properties of an object schema (after following references and `allOf`). */
export function objectShape(doc, schema, depth = 0) {
  const target = deref(doc, schema).value;
  if (!isObject(target) || depth > 8) return null;
  let properties = {};
  let required = [];
  let found = false;
  if (Array.isArray(target.allOf)) {
    for (const part of target.allOf) {
      const shape = objectShape(doc, part, depth + 1);
      if (!shape) continue;
      found = true;
      properties = { ...properties, ...shape.properties };
      required = required.concat(shape.required);
    }
  }
  if (isObject(target.properties)) {
    found = true;
    properties = { ...properties, ...target.properties };
  }
  if (Array.isArray(target.required)) required = required.concat(target.required.map(String));
  if (!found) return null;
  return { properties, required: [...new Set(required)], additional: target.additionalProperties };
}

/** Example values a document gives for a media type: `[{ title, value }]`. */
export function documentedExamples(doc, media) {
  if (!isObject(media)) return [];
  if ('example' in media) return [{ title: null, value: media.example }];
  if (isObject(media.examples)) {
    return Object.entries(media.examples)
      .map(([name, raw]) => {
        const ex = deref(doc, raw).value;
        if (!isObject(ex) || !('value' in ex)) return null;
        return { title: typeof ex.summary === 'string' ? ex.summary : name, value: ex.value };
      })
      .filter(Boolean);
  }
  return [];
}

/**
 * An example value for a schema: the schema's own example when it has one, else one built from
 * types, formats, enumerations and bounds. References are followed; cycles end in `null`.
 */
export function exampleFor(doc, schema, depth = 0, trail = new Set()) {
  if (depth > MAX_EXAMPLE_DEPTH || schema === false) return null;
  if (!isObject(schema)) return null;
  if (typeof schema.$ref === 'string') {
    if (trail.has(schema.$ref)) return null;
    const target = deref(doc, schema).value;
    const next = new Set(trail);
    next.add(schema.$ref);
    return exampleFor(doc, target, depth + 1, next);
  }
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if ('example' in schema) return schema.example;
  if ('const' in schema) return schema.const;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((s) => exampleFor(doc, s, depth + 1, trail));
    if (parts.every(isObject)) return Object.assign({}, ...parts);
    return parts.find((p) => p !== null) ?? null;
  }
  for (const key of ['oneOf', 'anyOf']) {
    if (Array.isArray(schema[key]) && schema[key].length) {
      const nonNull = schema[key].find((s) => !(isObject(s) && s.type === 'null')) ?? schema[key][0];
      return exampleFor(doc, nonNull, depth + 1, trail);
    }
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const type = types.find((t) => t !== 'null')
    ?? (types.length ? 'null' : isObject(schema.properties) ? 'object' : 'items' in schema ? 'array' : null);
  switch (type) {
    case 'object': {
      const out = {};
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const [name, sub] of Object.entries(props)) out[name] = exampleFor(doc, sub, depth + 1, trail);
      return out;
    }
    case 'array': {
      const item = exampleFor(doc, schema.items, depth + 1, trail);
      return item === null && !isObject(schema.items) ? [] : [item];
    }
    case 'string':
      return stringExample(schema);
    case 'integer':
    case 'number':
      return numberExample(schema, type);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return null;
  }
}

function stringExample(schema) {
  switch (schema.format) {
    case 'date-time':
      return '2026-11-27T20:00:00Z';
    case 'date':
      return '2026-11-27';
    case 'email':
      return 'it-ops@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/';
    case 'uuid':
      return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
    default: {
      const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
      return 'string'.padEnd(Math.min(Math.max(min, 6), 64), 'x');
    }
  }
}

function numberExample(schema, type) {
  let n = 0;
  if (typeof schema.minimum === 'number') n = schema.minimum;
  else if (typeof schema.exclusiveMinimum === 'number') n = schema.exclusiveMinimum + (type === 'integer' ? 1 : 0.5);
  else if (typeof schema.maximum === 'number' && schema.maximum < 0) n = schema.maximum;
  return type === 'integer' ? Math.ceil(n) : n;
}

/** The class of a response status: `2xx`, `4xx`, …, or `other` (`default`, ranges). */
export function statusClass(code) {
  const c = String(code);
  return /^[1-5]/.test(c) ? `${c[0]}xx` : 'other';
}

/** A URL safe to put in an `href`: http(s), mailto or a relative path; otherwise `null`. */
export function safeHref(url, base) {
  if (typeof url !== 'string' || !url.trim()) return null;
  try {
    const parsed = new URL(url, base);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}
