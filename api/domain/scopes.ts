// What a key may do: the scopes of API.md "Conventions" and what each kind of key gets by default.
// A rule of the access model, not of HTTP: the database types (api/db/schema.gen.ts), the auth
// plugin and the services all name these.
export const SCOPES = [
  'cases:read',
  'cases:write',
  'documents:read',
  'documents:write',
  'appointments:read',
  'appointments:write',
  'settlement:read',
  'settlement:write',
  'webhooks:write',
  'tenants:admin',
] as const

export type Scope = (typeof SCOPES)[number]

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value)

const TENANT_SCOPES: Scope[] = SCOPES.filter((s) => s !== 'tenants:admin')

/** What a key gets when it is created without `scopes`. */
export const DEFAULT_SCOPES = {
  admin: [...SCOPES],
  memberClient: TENANT_SCOPES,
  hubClient: TENANT_SCOPES,
  staff: ['cases:read', 'cases:write', 'documents:read', 'documents:write', 'appointments:read', 'appointments:write'] as Scope[],
  /** A hub lead: the staff scopes plus settlement and webhooks (API.md "Conventions"). */
  lead: ['cases:read', 'cases:write', 'documents:read', 'documents:write', 'appointments:read', 'appointments:write', 'settlement:read', 'settlement:write', 'webhooks:write'] as Scope[],
} as const satisfies Record<string, readonly Scope[]>
