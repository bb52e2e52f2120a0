// Prometheus metrics of the workers process, served on its metrics port next to /healthz and
// /readyz: job durations and failures by queue, the relay's lag from commit to dispatch, and the
// depth of the outbox and the queues (the same gauges the API exports).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../api/db/database.js'
import { registerQueueGauges } from '../api/jobs/metrics.js'
import type { Queues } from '../api/jobs/queues.js'

export interface WorkerMetrics {
  registry: Registry
  /** A job ended: its processing time in seconds, and whether it completed or failed. */
  jobEnded(queue: string, outcome: 'completed' | 'failed', seconds: number | null): void
  /** The relay moved a row that waited this long since its transaction committed. */
  dispatched(queue: string, waitedSeconds: number): void
}

export function createWorkerMetrics(db: Db, queues: Queues): WorkerMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'regiobalie_workers_' })
  const duration = new Histogram({
    name: 'regiobalie_job_duration_seconds',
    help: 'Time a job spent in its handler, by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [registry],
  })
  const failures = new Counter({ name: 'regiobalie_job_failures_total', help: 'Failed job attempts, by queue', labelNames: ['queue'], registers: [registry] })
  const lag = new Histogram({
    name: 'regiobalie_relay_lag_seconds',
    help: 'Time from an outbox row being committed to its job being in BullMQ, by queue',
    labelNames: ['queue'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  registerQueueGauges(registry, db, queues)
  return {
    registry,
    jobEnded(queue, outcome, seconds) {
      if (outcome === 'failed') failures.inc({ queue })
      if (seconds !== null) duration.observe({ queue, outcome }, seconds)
    },
    dispatched(queue, waitedSeconds) {
      lag.observe({ queue }, Math.max(0, waitedSeconds))
    },
  }
}
