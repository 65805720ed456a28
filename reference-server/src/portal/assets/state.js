// What the modules of the page share: the server's public configuration and who is signed in.

export const state = {
  /** `/v1/partner/config`, with safe defaults until it has loaded. */
  config: {
    environment: '',
    key_prefix: '',
    default_validity_days: 365,
    rotation_grace_hours: [24, 48, 72],
    expiring_threshold_days: 30,
    docs_url: null,
    api_base_url: null,
    /** The scope catalogue of restricted keys: `[{name, description}]`. */
    scopes: [],
  },
  /** True from sign-in until the session ends (a re-authentication keeps it true). */
  signedIn: false,
  /** The signed-in email (re-authentication signs in as this email again). */
  email: '',
};
