// The typed job registry (STYLE.md §14–16): queue → job name → payload. Payloads carry ids and the
// tenant id only — Redis keeps job data in clear text, so never a BSN, a name or file bytes.

export interface JobRegistry {
  /** Automatic intake checks of a submitted case: route it to intake, or reject it at intake. */
  'case-intake': {
    'intake-checks': { tenantId: string; caseId: string }
  }
  /** Checks one uploaded document: integrity, legalisation, translation, expiry, duplicates. */
  'document-review': {
    review: { tenantId: string; documentId: string; reviewVersion: number }
  }
  /** Books a requested appointment: the earliest fitting slot or ceremony seat, or unschedulable. */
  scheduling: {
    book: { tenantId: string; appointmentId: string }
  }
  /** Webhook deliveries (api/webhooks): one attempt of one delivery; the sweep finds retries that are due. */
  notifications: {
    /** First attempts of every delivery of one event (one outbox row per event, not per delivery). */
    'deliver-event': { tenantId: string; eventId: string }
    /** One attempt of one delivery (retries, redelivery, test events); tenantId is the subscriber's. */
    deliver: { tenantId: string; deliveryId: string }
    'sweep-due-deliveries': Record<string, never>
  }
  /** Settles one hub's month: per member an invoice and an IND remittance (api/settlement). */
  settlement: {
    settle: { tenantId: string; settlementId: string }
  }
  maintenance: {
    /** Deletes outbox rows that were dispatched longer ago than the retention window. */
    'purge-dispatched-outbox': Record<string, never>
    /** Deletes stored idempotent responses older than 48 hours (API.md promises at least 24). */
    'purge-idempotency-keys': Record<string, never>
    /** Deletes webhook deliveries delivered or dead longer ago than 30 days. */
    'purge-finished-deliveries': Record<string, never>
    /** Crypto-shreds the documents of closed cases whose retention period has passed. */
    'shred-expired-documents': Record<string, never>
    /** Closes the cases awaiting a ceremony whose decree or confirmation lapsed (`decree_lapsed`). */
    'lapse-expired-decrees': Record<string, never>
  }
}

export type QueueName = keyof JobRegistry
export type JobName<Q extends QueueName> = keyof JobRegistry[Q] & string
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobRegistry[Q][N]

export const QUEUE_NAMES = ['case-intake', 'document-review', 'scheduling', 'notifications', 'settlement', 'maintenance'] as const satisfies readonly QueueName[]

// Compile-time check that QUEUE_NAMES lists every queue of the registry.
type Missing = Exclude<QueueName, (typeof QUEUE_NAMES)[number]>
const _allQueuesListed: Missing extends never ? true : never = true
void _allQueuesListed

export interface QueuePolicy {
  attempts: number
  backoffMs: number
  /**
   * Completed jobs are kept this long (and at most KEEP_COMPLETED_JOBS of them) so a re-dispatch of
   * the same outbox row right after a relay crash is deduplicated. PostgreSQL is the record: a
   * finished row is never dispatched again, so Redis need not keep history (issue 13, growth).
   */
  keepCompletedSeconds: number
  keepFailedSeconds: number
  /** Jobs in hand at once per process. */
  concurrency: number
  /**
   * BullMQ workers per process sharing the concurrency (1 unless given): with a backlog a worker
   * fetches its first `concurrency` jobs one after another before it starts any, so several start sooner.
   */
  workers?: number
  /** How long a worker may hold a job before BullMQ considers it stalled. */
  lockMs: number
}

/** The most completed jobs one queue keeps in Redis, whatever their age. */
export const KEEP_COMPLETED_JOBS = 10_000

export const QUEUE_POLICIES: Record<QueueName, QueuePolicy> = {
  // Intake is a few short statements per job: many at once keep the database, not the worker, busy.
  'case-intake': { attempts: 5, backoffMs: 2_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 30 * 86_400, concurrency: 128, lockMs: 30_000 },
  // Decoding runs in a worker thread (api/documents/integrity-isolated.ts), two documents at a time.
  'document-review': { attempts: 5, backoffMs: 5_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 30 * 86_400, concurrency: 2, lockMs: 60_000 },
  // Bookings of one hub that arrive together are written in one statement (workers/scheduling.ts),
  // so the jobs in hand make the batch. With a backlog a BullMQ worker fetches its first
  // `concurrency` jobs one after another before it starts any: one worker of 128 started booking
  // after 2–3 s of bench:scheduling's burst (p95, same hour: 2.2 s at 32, 1.6 s at 64, 4.6 s at 128).
  scheduling: { attempts: 5, backoffMs: 1_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 30 * 86_400, concurrency: 64, workers: 4, lockMs: 30_000 },
  // Retries of a delivery are the delivery row's (api/domain/webhook-retry.ts), not BullMQ's; a job
  // waits on a receiver for up to 10 s, so many run at once, capped per subscription.
  notifications: { attempts: 3, backoffMs: 1_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 7 * 86_400, concurrency: 64, lockMs: 30_000 },
  // One run works a whole hub, member by member; a stalled run is resumed by the next attempt.
  settlement: { attempts: 10, backoffMs: 5_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 30 * 86_400, concurrency: 1, lockMs: 120_000 },
  maintenance: { attempts: 3, backoffMs: 10_000, keepCompletedSeconds: 3_600, keepFailedSeconds: 30 * 86_400, concurrency: 1, lockMs: 60_000 },
}

/** Deterministic BullMQ job id for an outbox row (its job_key): no ':' and not digits only (STYLE.md §16). */
export const outboxJobId = (jobKey: string): string => `outbox-${jobKey}`

/** Key prefix of every BullMQ key; a hash tag keeps a queue on one Redis Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = '{regiobalie}'
