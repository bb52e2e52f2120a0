import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { sql } from 'kysely'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { withAdmin, type Db } from '../../db/database.js'
import type { Queues } from '../../jobs/queues.js'

export interface Metrics {
  registry: Registry
}

/**
 * Request durations per route, plus the depth of the work queues: outbox rows waiting in PostgreSQL
 * and jobs per state in BullMQ. Each app has its own registry (no global state between instances).
 */
export function createMetrics(db: Db, queues: Queues | null): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'regiobalie_' })
  new Histogram({
    name: 'regiobalie_http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  new Counter({ name: 'regiobalie_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] })
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
        // PostgreSQL away: /readyz reports it; the scrape still answers.
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
  return { registry }
}

export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics }) => {
    const histogram = opts.metrics.registry.getSingleMetric('regiobalie_http_request_duration_seconds') as Histogram
    const counter = opts.metrics.registry.getSingleMetric('regiobalie_http_requests_total') as Counter
    app.addHook('onResponse', async (request, reply) => {
      const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }
      histogram.observe(labels, reply.elapsedTime / 1000)
      counter.inc(labels)
    })
  },
  { name: 'metrics' },
)
