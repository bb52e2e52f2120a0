import { sql } from 'kysely'
import type { Trx } from '../db/database.js'

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

/** Claims the key for this request; false when a row for it exists already. */
export async function claim(trx: Trx, owner: Owner, key: string, requestHash: Buffer): Promise<boolean> {
  const row = await trx
    .insertInto('idempotency_keys')
    .values({ owner_id: owner.ownerId, principal_id: owner.principalId, idempotency_key: key, request_hash: requestHash, status: 'in_flight' })
    .onConflict((oc) => oc.columns(['owner_id', 'principal_id', 'idempotency_key']).doNothing())
    .returning('owner_id')
    .executeTakeFirst()
  return row !== undefined
}

export async function find(trx: Trx, owner: Owner, key: string, staleAfterSeconds: number): Promise<StoredResponse | undefined> {
  return trx
    .selectFrom('idempotency_keys')
    .select(['status', 'request_hash', 'response_status', 'response_body', 'response_headers'])
    .select(sql<boolean>`created_at < now() - make_interval(secs => ${staleAfterSeconds})`.as('stale'))
    .where('owner_id', '=', owner.ownerId)
    .where('principal_id', '=', owner.principalId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst()
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

export async function complete(
  trx: Trx,
  owner: Owner,
  key: string,
  response: { status: number; body: string; headers: Record<string, string> },
): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: response.status, response_body: response.body, response_headers: JSON.stringify(response.headers) })
    .where('owner_id', '=', owner.ownerId)
    .where('principal_id', '=', owner.principalId)
    .where('idempotency_key', '=', key)
    .execute()
}

export async function release(trx: Trx, owner: Owner, key: string): Promise<void> {
  await trx.deleteFrom('idempotency_keys').where('owner_id', '=', owner.ownerId).where('principal_id', '=', owner.principalId).where('idempotency_key', '=', key).where('status', '=', 'in_flight').execute()
}
