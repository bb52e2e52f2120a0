// Delivery metrics of the workers process: attempts by outcome, attempt latency and dead letters
// (prom-client, a registry per process like the API's). The API's /metrics adds the deliveries per
// status as they stand in PostgreSQL.
import { Counter, Histogram, type Registry } from 'prom-client'

export type AttemptOutcome = 'delivered' | 'failed' | 'dead' | 'gone' | 'refused' | 'deferred'

export interface WebhookMetrics {
  attempt(outcome: AttemptOutcome, seconds: number | null): void
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({
    name: 'regiobalie_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed = retry scheduled, dead, gone = 410, refused = SSRF guard, deferred = subscription at its in-flight cap)',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'regiobalie_webhook_attempt_duration_seconds',
    help: 'Duration of webhook delivery attempts (request sent to answer or timeout)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  const dead = new Counter({ name: 'regiobalie_webhook_dead_letters_total', help: 'Webhook deliveries that ran out of attempts (or hit a 410)', registers: [registry] })
  return {
    attempt(outcome, seconds) {
      attempts.inc({ outcome })
      if (seconds !== null) latency.observe({ outcome }, seconds)
      if (outcome === 'dead' || outcome === 'gone') dead.inc()
    },
  }
}
