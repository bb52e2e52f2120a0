import { sql } from 'kysely'
import type { Logger } from 'pino'
import type { Db } from '../db/database.js'
import { DomainError } from '../domain/errors.js'
import { hashApiKey } from './keys.js'
import type { Principal } from './principal.js'
import type { PrincipalCache } from './principal-cache.js'
import { isScope, type Scope } from '../domain/scopes.js'

interface KeyRow {
  key_id: string
  kind: 'admin' | 'client' | 'staff'
  tenant_id: string | null
  staff_id: string | null
  scopes: string[]
  tenant_status: 'active' | 'suspended' | null
  tenant_role: 'hub' | 'member' | null
  region_id: string | null
  staff_role: 'specialist' | 'lead' | null
  staff_status: 'active' | 'inactive' | null
}

const unauthorized = (detail: string) =>
  new DomainError('unauthenticated', 'unauthorized', detail)

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null
  // The scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are Bearer too.
  const match = /^Bearer +([\x21-\x7e]{16,512})$/i.exec(header)
  return match?.[1] ?? null
}

/**
 * Resolves a key to its principal: looked up in the database, or taken from `cache`, which every
 * change to keys, tenants and staff empties (principal-cache.ts), so a revoked key or a suspended
 * tenant is refused on the next request.
 */
export async function authenticate(db: Db, authorization: string | undefined, cache?: PrincipalCache): Promise<Principal> {
  if (!authorization) throw unauthorized('an API key is required: Authorization: Bearer <key>')
  // The scheme is case-insensitive (RFC 9110 §11.1), like bearerToken.
  if (!/^Bearer /i.test(authorization)) throw unauthorized('the Authorization header must be "Bearer <key>"')
  const token = bearerToken(authorization)
  // Not even the shape of a key this platform issues.
  if (!token) throw unauthorized('the API key is unknown or revoked')
  const keyHash = hashApiKey(token)
  if (!cache) return authenticateKeyHash(db, keyHash)
  const id = keyHash.toString('base64')
  const cached = cache.get(id)
  if (cached) return cached
  const generation = cache.current
  const principal = await authenticateKeyHash(db, keyHash)
  cache.set(id, principal, generation)
  return principal
}

/**
 * The principal of a key, by the key's SHA-256. The workbench keeps only this hash in its encrypted
 * session cookie, and resolves it on every request like the API does with the key itself.
 */
export async function authenticateKeyHash(db: Db, keyHash: Buffer): Promise<Principal> {
  const { rows } = await sql<KeyRow>`select * from authenticate_api_key(${keyHash})`.execute(db)
  const row = rows[0]
  if (!row) throw unauthorized('the API key is unknown or revoked')
  const scopes = new Set<Scope>(row.scopes.filter(isScope))
  if (row.kind === 'admin') return { kind: 'admin', keyId: row.key_id, scopes }
  if (!row.tenant_id || !row.region_id || !row.tenant_role) throw unauthorized('the API key is unknown or revoked')
  if (row.tenant_status !== 'active') throw new DomainError('forbidden', 'tenant-suspended', 'this municipality is suspended on the platform')
  if (row.kind === 'client') {
    return { kind: 'client', keyId: row.key_id, scopes, tenantId: row.tenant_id, tenantRole: row.tenant_role, regionId: row.region_id }
  }
  if (!row.staff_id || !row.staff_role || row.staff_status !== 'active' || row.tenant_role !== 'hub') {
    throw unauthorized('the API key is unknown or revoked')
  }
  return {
    kind: 'staff',
    keyId: row.key_id,
    scopes,
    tenantId: row.tenant_id,
    tenantRole: 'hub',
    regionId: row.region_id,
    staffId: row.staff_id,
    staffRole: row.staff_role,
  }
}

/**
 * Collects "this key was used now" in memory and writes it in one statement every few seconds, so
 * lastUsedAt never costs a write per request.
 */
export class LastUsedRecorder {
  private pending = new Set<string>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  record(keyId: string): void {
    this.pending.add(keyId)
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs)
      this.timer.unref()
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.pending.size === 0) return
    const ids = [...this.pending]
    this.pending.clear()
    try {
      await sql`select touch_api_keys(${ids}::uuid[], now())`.execute(this.db)
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not record key use')
    }
  }
}
