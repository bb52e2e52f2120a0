import pg from 'pg'
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely'
import type { DB } from './schema.js'

export type Db = Kysely<DB>
export type Trx = Transaction<DB>

const INT8_OID = 20
const DATE_OID = 1082

// Type parsers chosen on purpose (STYLE.md §13): cents are int8 and must stay exact, so they become
// numbers only while they are safe integers; dates stay 'YYYY-MM-DD' strings (no time-zone shift).
const parseInt8 = (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new RangeError('int8 value outside the safe integer range')
  return n
}

const types = {
  getTypeParser: ((oid: number, format?: string): ((value: string) => unknown) => {
    if (oid === INT8_OID) return parseInt8
    if (oid === DATE_OID) return (value: string) => value
    return pg.types.getTypeParser(oid, format as 'text') as (value: string) => unknown
  }) as typeof pg.types.getTypeParser,
}

export interface DbOptions {
  max?: number
  applicationName?: string
  /** Connecting (TCP and start-up) may take this long; then the query fails (503), never hangs. */
  connectTimeoutMs?: number
  /** One statement may run this long on the server; the client gives up a second later (0 = unbounded, for migrations). */
  statementTimeoutMs?: number
  /** Where a pooled connection's error goes (PostgreSQL restarted under an idle connection). */
  onError?: (err: Error) => void
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000

export function createDb(connectionString: string, options: DbOptions = {}): Db {
  const statementTimeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'regiobalie',
    types,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    // Server side: a slow statement is cancelled. Client side: a server that stopped answering
    // (SIGSTOP, a network partition) fails the query instead of holding the request for ever.
    ...(statementTimeout > 0 ? { statement_timeout: statementTimeout, query_timeout: statementTimeout + 1_000 } : {}),
    keepAlive: true,
  })
  // An idle pooled connection whose server went away (a restart) emits 'error'; without a listener
  // that is an uncaught exception and the process exits. The pool drops the connection itself.
  pool.on('error', (err) => options.onError?.(err))
  // The same while a connection is checked out (a transaction between two statements): pg emits
  // 'error' on the client itself, and with no listener that too would end the process. The
  // statement in progress fails (503) and the pool discards the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', (err) => options.onError?.(err))
  })
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
}

/**
 * Runs fn in a transaction that sees only the rows of one tenant (RLS, set per transaction so a
 * pooled connection never carries it into the next request).
 */
export interface TenantScope {
  tenantId: string
  /** The tenant's region, taken from its authenticated key; lets it see the region's tenants. */
  regionId: string | null
}

export const withTenant = <T>(db: Db, scope: TenantScope, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  db.transaction().execute(async (trx) => {
    await sql`select set_config('app.tenant_id', ${scope.tenantId}, true), set_config('app.region_id', ${scope.regionId ?? ''}, true)`.execute(trx)
    return fn(trx)
  })

/**
 * For system work on behalf of one tenant (workers): the job carries only the tenant id, so the
 * tenant's own row — visible to it — gives the region, which is then set too; both in one
 * statement (app_enter_tenant, migration 0013).
 */
export const withTenantOf = <T>(db: Db, tenantId: string, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  db.transaction().execute(async (trx) => {
    // Sets the tenant, reads its region under its own RLS and sets that: one round trip (migration 0013).
    await sql`select app_enter_tenant(${tenantId}::uuid)`.execute(trx)
    return fn(trx)
  })

/**
 * Runs fn with the platform-admin setting, which the policies honour explicitly. For platform
 * admin operations and system work across tenants (the outbox relay) only — never for a tenant's
 * request.
 */
export const withAdmin = <T>(db: Db, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  db.transaction().execute(async (trx) => {
    await sql`select set_config('app.admin', 'on', true)`.execute(trx)
    return fn(trx)
  })

/** The application role must not be able to switch RLS off; refuse to run if it could. */
export async function assertUnprivilegedRole(db: Db): Promise<void> {
  const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>`
    select r.rolsuper, r.rolbypassrls,
           exists (select 1 from pg_tables t where t.schemaname = 'public' and t.tableowner = current_user) as owns
    from pg_roles r where r.rolname = current_user`.execute(db)
  const role = rows[0]
  if (!role) throw new Error('cannot read the current database role')
  if (role.rolsuper || role.rolbypassrls || role.owns) {
    throw new Error(
      'the application database role is a superuser, owns tables or has BYPASSRLS; row-level security would be off. ' +
        'Point APP_DATABASE_URL at the regiobalie application role (see README).',
    )
  }
}
