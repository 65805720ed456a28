// What the console's modules share: who is signed in, the server's public configuration, and
// the tenants known so far (for names on rows and the tenant pickers).

export const state = {
  /** True from sign-in until the session ends (a re-authentication keeps it true). */
  signedIn: false,
  /** The signed-in staff email (re-authentication signs in as this email again). */
  email: '',
  /** `/v1/partner/config`: the environment and the scope catalogue. */
  config: { environment: '', scopes: [] },
  /** Tenants by id, from the last tenant list (and every tenant seen on a row since). */
  tenants: new Map(),
};

/** Remembers tenants (`{id, name, …}`) seen in any answer. */
export function rememberTenants(list) {
  for (const tenant of list) {
    if (tenant && typeof tenant.id === 'string') {
      state.tenants.set(tenant.id, { ...state.tenants.get(tenant.id), ...tenant });
    }
  }
}

/** A tenant's name, or its id while the name is not known. */
export function tenantName(id) {
  const tenant = state.tenants.get(id);
  return tenant && typeof tenant.name === 'string' ? tenant.name : String(id);
}
