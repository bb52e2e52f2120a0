// Gauges of the work queues that both processes export (the API on /metrics, the workers on their
// metrics port): outbox rows waiting in PostgreSQL, jobs per state in BullMQ, webhook deliveries
// per status.
import { sql } from 'kysely'
import { Gauge, type Registry } from 'prom-client'
import { withAdmin, type Db } from '../db/database.js'
import type { Queues } from './queues.js'

export function registerQueueGauges(registry: Registry, db: Db, queues: Queues | null): void {
  new Gauge({
    name: 'regiobalie_outbox_pending',
    help: 'Outbox rows not yet moved into BullMQ, per queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset()
      try {
        const rows = await withAdmin(db, (trx) =>
          sql<{ queue: string; n: number }>`select queue, count(*)::int as n from outbox where dispatched_at is null group by queue`.execute(trx),
        )
        for (const r of rows.rows) this.set({ queue: r.queue }, r.n)
      } catch {
        // PostgreSQL away: readiness reports it; the scrape still answers.
      }
    },
  })
  new Gauge({
    name: 'regiobalie_queue_jobs',
    help: 'BullMQ jobs per queue and state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset()
      if (!queues) return
      for (const [name, queue] of Object.entries(queues)) {
        try {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')
          for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state }, n)
        } catch {
          // Redis away: skip this queue.
        }
      }
    },
  })
  new Gauge({
    name: 'regiobalie_webhook_deliveries',
    help: 'Webhook deliveries per status as they stand (status="dead": the dead letters)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset()
      try {
        const rows = await withAdmin(db, (trx) =>
          sql<{ status: string; n: number }>`select status, count(*)::int as n from webhook_deliveries group by status`.execute(trx),
        )
        for (const r of rows.rows) this.set({ status: r.status }, r.n)
      } catch {
        // PostgreSQL away: /readyz reports it; the scrape still answers.
      }
    },
  })
}
