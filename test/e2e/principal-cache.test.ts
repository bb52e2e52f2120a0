// Issue 13: each API process caches the principals of the keys it has seen (api/auth/principal-cache.ts).
// A change made through one process, or straight in the database, must still apply in the other
// process from its next requests: the cache is emptied by NOTIFY, not by its 60-second lifetime.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { freePort, run, until, type Proc } from './helpers.js'

let database: TestDatabase
let region: RegionFixture
let adminKey: string
const blobDir = mkdtempSync(join(tmpdir(), 'regiobalie-principal-cache-'))
const procs: Proc[] = []
const ports: number[] = []

beforeAll(async () => {
  database = await createTestDatabase()
  region = await newRegion(database.db)
  adminKey = await newAdminKey(database.db)
  const env = {
    ...TEST_KEYS,
    DATABASE_URL: database.ownerUrl,
    APP_DATABASE_URL: database.appUrl,
    REDIS_URL,
    BLOB_DIR: blobDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
  }
  for (let i = 0; i < 2; i += 1) {
    const port = await freePort()
    ports.push(port)
    procs.push(run('api/http/server.js', { ...env, PORT: String(port) }))
  }
  for (const port of ports) {
    await until(`the API on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.ok, 120_000)
  }
}, 150_000)

afterAll(async () => {
  for (const p of procs) p.child.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
  rmSync(blobDir, { recursive: true, force: true })
  await database.drop()
})

const get = async (port: number, key: string, path = '/v1/cases?limit=1') =>
  fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${key}` } })

/** The status `port` answers with for `key`, once it is `expected` — well within the cache's 60 s lifetime. */
const becomes = (port: number, key: string, expected: number) =>
  until(`${expected} from the API on ${port}`, async () => (await get(port, key)).status === expected, 10_000)

describe('the principal cache of two API processes', () => {
  it('a key revoked through one process is refused by the other', async () => {
    const [a, b] = [ports[0]!, ports[1]!]
    const created = await fetch(`http://127.0.0.1:${a}/v1/tenants/${region.members[0].id}/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cached' }),
    })
    expect(created.status).toBe(201)
    const key = (await created.json()) as { id: string; key: string }
    // Both processes have the principal cached now.
    for (const port of [a, b]) for (let i = 0; i < 3; i += 1) expect((await get(port, key.key)).status).toBe(200)

    const revoked = await fetch(`http://127.0.0.1:${a}/v1/tenants/${region.members[0].id}/api-keys/${key.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminKey}` },
    })
    expect(revoked.status).toBe(204)
    // The process that revoked it refuses it on the very next request; the other as soon as it hears.
    expect((await get(a, key.key)).status).toBe(401)
    await becomes(b, key.key, 401)
    expect((await get(b, key.key)).status).toBe(401)
  })

  it('a tenant suspended in the database is refused by both, and let in again once reactivated', async () => {
    const key = region.members[1].key
    for (const port of ports) expect((await get(port, key)).status).toBe(200)
    await sql`update tenants set status = 'suspended' where id = ${region.members[1].id}`.execute(database.owner)
    for (const port of ports) await becomes(port, key, 403)
    await sql`update tenants set status = 'active' where id = ${region.members[1].id}`.execute(database.owner)
    for (const port of ports) await becomes(port, key, 200)
  })

  it('a deactivated staff member’s key is refused by both', async () => {
    const key = region.specialist.key
    for (const port of ports) expect((await get(port, key)).status).toBe(200)
    await sql`update staff set status = 'inactive' where id = ${region.specialist.id}`.execute(database.owner)
    for (const port of ports) await becomes(port, key, 401)
  })

  it('recording key use (lastUsedAt) notifies nobody; a change to a tenant does', async () => {
    const listener = new pg.Client({ connectionString: database.ownerUrl })
    await listener.connect()
    const heard: string[] = []
    listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`))
    await listener.query('listen regiobalie_auth')
    try {
      await sql`select touch_api_keys(array(select id from api_keys where tenant_id = ${region.hub.id}), now())`.execute(database.db)
      // Committed after the touch, so heard after anything the touch would have sent.
      await sql`update tenants set name = name where id = ${region.hub.id}`.execute(database.owner)
      await until('the tenant change to be heard', async () => heard.length > 0)
      expect(heard).toEqual(['regiobalie_auth:tenants'])
    } finally {
      await listener.end()
    }
  })
})
