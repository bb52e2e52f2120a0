// docker-compose.yml supervises the platform (issue 9): api and workers restart by themselves and
// have real health checks — the workers answer on their metrics port, not a `kill -0`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../e2e/helpers.js'

type Service = { restart?: string; healthcheck?: { test: string[] }; environment?: Record<string, string> }
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }

describe('docker-compose.yml', () => {
  it.each(['api', 'workers'])('%s restarts by itself and has a health check that asks the process over HTTP', (name) => {
    const service = compose.services[name]!
    expect(service.restart).toMatch(/^(unless-stopped|always|on-failure)/)
    expect(service.healthcheck?.test.join(' ')).toMatch(/fetch\('http:\/\/127\.0\.0\.1:\d+\/healthz'\)/)
  })

  it('points the workers’ health check at the port they answer on', () => {
    const workers = compose.services.workers!
    const port = workers.environment?.WORKERS_METRICS_PORT
    expect(port).toMatch(/^\d+$/)
    expect(workers.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/healthz`)
  })
})
