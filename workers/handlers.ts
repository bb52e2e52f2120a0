// Every job of the registry has a handler; `satisfies Handlers` fails the build when one is missing.
import type { Job } from 'bullmq'
import type { Logger } from 'pino'
import type { Db } from '../api/db/database.js'
import type { JobName, JobPayload, QueueName } from '../api/jobs/registry.js'
import { purgeDispatchedOutbox } from './maintenance.js'

export interface JobContext {
  db: Db
  logger: Logger
  job: Job
}

export type Handlers = {
  [Q in QueueName]: { [N in JobName<Q>]: (payload: JobPayload<Q, N>, ctx: JobContext) => Promise<unknown> }
}

export const handlers = {
  maintenance: {
    'purge-dispatched-outbox': (_payload, ctx) => purgeDispatchedOutbox(ctx.db),
  },
} satisfies Handlers
