import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../../db/database.js'
import { registerQueueGauges } from '../../jobs/metrics.js'
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
  registerQueueGauges(registry, db, queues)
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
