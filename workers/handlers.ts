// Every job of the registry has a handler; `satisfies Handlers` fails the build when one is missing.
import type { Job } from 'bullmq'
import type { Logger } from 'pino'
import type { Db } from '../api/db/database.js'
import type { BlobStore } from '../api/documents/blob-store.js'
import type { JobName, JobPayload, QueueName } from '../api/jobs/registry.js'
import type { DeliveryDeps } from '../api/webhooks/delivery.js'
import type { DeliveryPumps } from '../api/webhooks/delivery-pump.js'
import type { IntakeBatcher } from './case-intake.js'
import { lapseExpiredDecrees } from './lapse.js'
import { runDocumentReview } from './document-review.js'
import { purgeDispatchedOutbox, purgeFinishedDeliveries, purgeIdempotencyKeys } from './maintenance.js'
import { deliver, deliverEvent, sweep } from './notifications.js'
import type { SchedulingBatcher } from './scheduling.js'
import { shredExpiredDocuments } from './retention.js'
import { settle } from './settlement.js'

export interface JobContext {
  db: Db
  store: BlobStore
  masterKey: Buffer
  logger: Logger
  job: Job
  webhooks: DeliveryDeps
  /** The process's webhook delivery pumps (one per subscription with pending deliveries). */
  pumps: DeliveryPumps
  /** The process's intake batches (workers/case-intake.ts): the jobs of one hub arriving together. */
  intake: IntakeBatcher
  /** The process's booking batches (workers/scheduling.ts): the appointments of one hub requested together. */
  scheduling: SchedulingBatcher
  /** The review's integrity thread entry, when not next to the compiled module (tests). */
  integrityThread?: URL
}

export type Handlers = {
  [Q in QueueName]: { [N in JobName<Q>]: (payload: JobPayload<Q, N>, ctx: JobContext) => Promise<unknown> }
}

export const handlers = {
  'case-intake': {
    'intake-checks': (payload, ctx) => ctx.intake.add(payload.tenantId, payload),
  },
  'document-review': {
    review: (payload, ctx) => runDocumentReview(ctx, payload),
  },
  scheduling: {
    book: (payload, ctx) => ctx.scheduling.add(payload.tenantId, payload),
  },
  notifications: {
    'deliver-event': (payload, ctx) => deliverEvent(ctx.pumps, payload),
    deliver: (payload, ctx) => deliver(ctx.webhooks, payload),
    'sweep-due-deliveries': (_payload, ctx) => sweep(ctx.webhooks, ctx.pumps),
  },
  settlement: {
    settle: (payload, ctx) => settle(ctx.db, payload),
  },
  maintenance: {
    'purge-dispatched-outbox': (_payload, ctx) => purgeDispatchedOutbox(ctx.db),
    'purge-idempotency-keys': (_payload, ctx) => purgeIdempotencyKeys(ctx.db),
    'purge-finished-deliveries': (_payload, ctx) => purgeFinishedDeliveries(ctx.db),
    'shred-expired-documents': (_payload, ctx) => shredExpiredDocuments(ctx.db, ctx.store),
    'lapse-expired-decrees': (_payload, ctx) => lapseExpiredDecrees(ctx.db),
  },
} satisfies Handlers
