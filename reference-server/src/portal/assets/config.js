// The server's public configuration (`/v1/partner/config`): environment badge and banner, docs
// link, API base URL, defaults of the forms, the scope catalogue of restricted keys.

import { getConfig } from './api.js';
import { byId, h, notice, show } from './dom.js';
import { state } from './state.js';

function safeHttpUrl(value) {
  if (typeof value !== 'string' || !value) return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The start of every key of this server, e.g. "idx_test_". */
export function keyPrefixText() {
  const { key_prefix: prefix, environment } = state.config;
  if (!prefix) return '';
  if (environment && !prefix.includes(`_${environment}`)) return `${prefix}_${environment}_`;
  return prefix.endsWith('_') ? prefix : `${prefix}_`;
}

function render() {
  const { config } = state;
  const env = typeof config.environment === 'string' ? config.environment : '';
  const badge = byId('env-badge');
  if (env) {
    badge.replaceChildren(env, h('span', { class: 'visually-hidden' }, ' environment'));
    badge.className = `env-badge ${env === 'live' ? 'env-live' : 'env-nonlive'}`;
    show(badge);
    if (env !== 'live') {
      byId('env-banner-title').textContent = `You are in the ${env} environment.`;
      const prefix = keyPrefixText();
      byId('env-banner-text').textContent = prefix
        ? `Keys issued here start with ${prefix} and are refused by production.`
        : 'Keys issued here are refused by production.';
      show(byId('env-banner'));
    }
    document.title = `Idunox partner portal · ${env}`;
  }
  const docs = safeHttpUrl(config.docs_url);
  const docsLink = byId('docs-link');
  if (docs) {
    docsLink.href = docs;
    show(docsLink);
  }
  const apiBase = safeHttpUrl(config.api_base_url);
  byId('footer-api').textContent = apiBase ? `API base URL: ${config.api_base_url}` : '';
  byId('create-validity').value = String(config.default_validity_days);
}

/** Loads the configuration (public, no session needed) and shows what it says. */
export async function loadConfig() {
  try {
    const config = await getConfig();
    if (config && typeof config === 'object') {
      const hours = Array.isArray(config.rotation_grace_hours)
        ? config.rotation_grace_hours.filter((n) => Number.isInteger(n) && n > 0)
        : [];
      state.config = {
        ...state.config,
        ...config,
        rotation_grace_hours: hours.length ? hours : state.config.rotation_grace_hours,
        default_validity_days: Number.isInteger(config.default_validity_days)
          ? config.default_validity_days
          : state.config.default_validity_days,
        expiring_threshold_days: Number.isInteger(config.expiring_threshold_days)
          ? config.expiring_threshold_days
          : state.config.expiring_threshold_days,
        scopes: Array.isArray(config.scopes) ? config.scopes.filter((s) => s && typeof s.name === 'string') : [],
      };
    }
  } catch {
    notice(byId('signin-message'), 'The portal configuration could not be loaded; some details may be missing.');
  }
  render();
}
