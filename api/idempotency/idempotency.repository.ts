import { sql } from 'kysely'
import type { Db, Trx } from '../db/database.js'

/** Whose key space: the tenant (RLS) and, within it, the API key that made the request. */
export interface Owner {
  ownerId: string
  principalId: string
}

export interface StoredResponse {
  status: 'in_flight' | 'done'
  request_hash: Buffer
  response_status: number | null
  response_body: string | null
  response_headers: Record<string, string> | null
  stale: boolean
}

/** Takes over a claim whose request never finished (the process died mid-request). */
export async function takeOver(trx: Trx, owner: Owner, key: string, staleAfterSeconds: number): Promise<boolean> {
  const row = await trx
    .updateTable('idempotency_keys')
    .set({ created_at: sql`now()` })
    .where('owner_id', '=', owner.ownerId)
    .where('principal_id', '=', owner.principalId)
    .where('idempotency_key', '=', key)
    .where('status', '=', 'in_flight')
    .where(sql<boolean>`created_at < now() - make_interval(secs => ${staleAfterSeconds})`)
    .returning('owner_id')
    .executeTakeFirst()
  return row !== undefined
}

export async function release(trx: Trx, owner: Owner, key: string): Promise<void> {
  await trx.deleteFrom('idempotency_keys').where('owner_id', '=', owner.ownerId).where('principal_id', '=', owner.principalId).where('idempotency_key', '=', key).where('status', '=', 'in_flight').execute()
}

/** The scope a statement sets for itself: the platform admin, or a tenant and its region. */
export type KeyScope = { admin: true } | { admin: false; tenantId: string; regionId: string | null }

const scopeArgs = (scope: KeyScope) =>
  scope.admin ? sql`true, null::uuid, null::uuid` : sql`false, ${scope.tenantId}::uuid, ${scope.regionId}::uuid`

/**
 * claim, and find when the key is taken, in one statement that sets the scope itself
 * (idempotency_claim, migration 0026): 'claimed', the stored row, or undefined when the row that
 * took the key is gone again (released meanwhile).
 */
export async function claimOrFind(
  db: Db,
  scope: KeyScope,
  owner: Owner,
  key: string,
  requestHash: Buffer,
  staleAfterSeconds: number,
): Promise<'claimed' | StoredResponse | undefined> {
  const { rows } = await sql<StoredResponse & { claimed: boolean }>`
    select * from idempotency_claim(${scopeArgs(scope)}, ${owner.ownerId}::uuid, ${owner.principalId}::text, ${key}::text,
      ${requestHash}::bytea, ${staleAfterSeconds}::integer)`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  if (row.claimed) return 'claimed'
  return {
    status: row.status,
    request_hash: row.request_hash,
    response_status: row.response_status,
    response_body: row.response_body,
    response_headers: row.response_headers,
    stale: row.stale,
  }
}

/** complete in one statement that sets the scope itself (idempotency_complete, migration 0026). */
export async function completeIn(
  db: Db,
  scope: KeyScope,
  owner: Owner,
  key: string,
  response: { status: number; body: string; headers: Record<string, string> },
): Promise<void> {
  await sql`
    select idempotency_complete(${scopeArgs(scope)}, ${owner.ownerId}::uuid, ${owner.principalId}::text, ${key}::text,
      ${response.status}::integer, ${response.body}::text, ${JSON.stringify(response.headers)}::jsonb)`.execute(db)
}
