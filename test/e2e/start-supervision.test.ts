// `npm start` supervises its children (issue 9): a crashed API or workers process is logged and
// restarted with backoff, while the other keeps running; SIGTERM still stops everything cleanly.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../fault/servers.js'
import { APP_PASSWORD, APP_USER, databaseUrl, OWNER_SERVER_URL, REDIS_URL, TEST_KEYS, testDatabaseName } from '../helpers/env.js'
import { run, until, type Proc } from './helpers.js'

const dbName = testDatabaseName('test')
const cwd = mkdtempSync(join(tmpdir(), 'regiobalie-supervise-'))
let proc: Proc | null = null

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGTERM')
    await proc.exited
  }
  rmSync(cwd, { recursive: true, force: true })
  const c = new pg.Client({ connectionString: OWNER_SERVER_URL })
  await c.connect()
  await c.query(`drop database if exists ${dbName} with (force)`)
  await c.end()
})

const pidOf = (output: string, name: string): number[] => [...output.matchAll(new RegExp(`${name} started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]))

describe('npm start as a supervisor', () => {
  it('restarts a crashed child with backoff and keeps the other running', async () => {
    const [port, metricsPort] = [await freePort(), await freePort()]
    proc = run('scripts/start.js', {
      PORT: String(port),
      WORKERS_METRICS_PORT: String(metricsPort),
      DATABASE_URL: databaseUrl(dbName),
      APP_DATABASE_URL: databaseUrl(dbName, APP_USER, APP_PASSWORD),
      REDIS_URL,
      QUEUE_PREFIX: `{rbsupervise-${randomUUID()}}`,
      LOG_LEVEL: 'warn',
      BOOTSTRAP_ADMIN_TOKEN: `supervise-${randomUUID()}`,
      // A deployment with an admin token is no demo: it brings its own keys (config refuses otherwise).
      ...TEST_KEYS,
    }, cwd)
    const p = proc
    await until('readiness', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000)
    const [apiPid] = pidOf(p.output(), 'api')
    const [workersPid] = pidOf(p.output(), 'workers')
    expect(apiPid).toBeGreaterThan(0)
    expect(workersPid).toBeGreaterThan(0)

    // The API crashes hard.
    process.kill(apiPid!, 'SIGKILL')
    await until('the crash to be logged', async () => /api stopped unexpectedly \(signal SIGKILL\); restarting in 1 s/.test(p.output()), 10_000)
    await until('the API to be back', async () => pidOf(p.output(), 'api').length === 2 && (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000)
    expect(pidOf(p.output(), 'api')[1]).not.toBe(apiPid)
    // The workers were never touched: same pid, still healthy on their port.
    expect(pidOf(p.output(), 'workers')).toEqual([workersPid])
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200)

    // Then the workers crash; the API keeps answering meanwhile.
    process.kill(workersPid!, 'SIGKILL')
    await until('the workers to be back', async () => pidOf(p.output(), 'workers').length === 2 && (await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).ok, 20_000)
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    expect(p.child.exitCode).toBeNull()

    p.child.kill('SIGTERM')
    expect(await p.exited).toBe(0)
  }, 120_000)
})
