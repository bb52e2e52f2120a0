// API_PROCESSES=2: one API start runs two processes on one port (node:cluster). Both answer,
// submissions through either get their own references, and SIGTERM stops them all cleanly.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { freePort, run, until, type Proc } from './helpers.js'

let database: TestDatabase
let region: RegionFixture
let api: Proc
let port: number
const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-api-processes-'))

beforeAll(async () => {
  database = await createTestDatabase()
  region = await newRegion(database.db)
  port = await freePort()
  api = run('api/http/server.js', {
    ...TEST_KEYS,
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    REDIS_URL,
    BLOB_DIR: blobDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
    API_PROCESSES: '2',
    PORT: String(port),
  })
  await until('the API', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok, 120_000)
}, 150_000)

afterAll(async () => {
  if (api.child.exitCode === null) api.child.kill('SIGKILL')
  rmSync(blobDir, { recursive: true, force: true })
  await database.drop()
})

describe('API_PROCESSES=2', () => {
  it('answers from two processes on one port, keeps references unique, and stops on SIGTERM', async () => {
    const N = 40
    const submit = async (i: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${region.members[i % 2]!.key}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ caseType: 'option', subject: { givenNames: `Cluster ${i}`, surname: 'Proces', dateOfBirth: '1990-01-01' } }),
      })
      expect(res.status).toBe(201)
      return ((await res.json()) as { reference: string }).reference
    }
    const references = await Promise.all(Array.from({ length: N }, (_, i) => submit(i)))
    expect(new Set(references).size).toBe(N)
    // Two processes, each listening for key changes on a connection of its own.
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'regiobalie-api-auth'`.execute(database.owner)
    expect(rows[0]!.n).toBe(2)

    api.child.kill('SIGTERM')
    expect(await api.exited).toBe(0)
  })
})
