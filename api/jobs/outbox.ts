import type { Trx } from '../db/database.js'
import type { JobName, JobPayload, QueueName } from './registry.js'

/**
 * Announces a job inside the caller's transaction: it is committed with the change it belongs to,
 * or not at all. The relay (workers/relay.ts) moves it into BullMQ afterwards. The row's tenant is
 * the transaction's own (a column default): the tenant whose work it is, for fair relaying.
 */
export async function enqueueInTransaction<Q extends QueueName, N extends JobName<Q>>(
  trx: Trx,
  queue: Q,
  jobName: N,
  payload: JobPayload<Q, N>,
): Promise<void> {
  await trx
    .insertInto('outbox')
    .values({ queue, job_name: jobName, payload: JSON.stringify(payload) })
    .execute()
}

/** Announces several jobs of one kind in one statement, inside the caller's transaction. */
export async function enqueueManyInTransaction<Q extends QueueName, N extends JobName<Q>>(
  trx: Trx,
  queue: Q,
  jobName: N,
  payloads: readonly JobPayload<Q, N>[],
): Promise<void> {
  if (payloads.length === 0) return
  await trx
    .insertInto('outbox')
    .values(payloads.map((payload) => ({ queue, job_name: jobName, payload: JSON.stringify(payload) })))
    .execute()
}
