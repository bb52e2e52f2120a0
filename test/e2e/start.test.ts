// The newcomer's first minute: `npm start` (dist/scripts/start.js) on an empty database migrates,
// seeds the demo region, prints a curl line that works, and stops cleanly on SIGTERM.
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { APP_PASSWORD, APP_USER, databaseUrl, OWNER_SERVER_URL, REDIS_URL, TEST_KEYS, testDatabaseName } from '../helpers/env.js'
import { freePort, run, until } from './helpers.js'

const dbName = testDatabaseName('test')
const cwd = mkdtempSync(join(tmpdir(), 'regiobalie-start-'))

afterAll(async () => {
  rmSync(cwd, { recursive: true, force: true })
  const c = new pg.Client({ connectionString: OWNER_SERVER_URL })
  await c.connect()
  await c.query(`drop database if exists ${dbName} with (force)`)
  await c.end()
})

describe('npm start', () => {
  it('brings up API and workers with a usable demo region, then stops on SIGTERM', async () => {
    const port = await freePort()
    const env = {
      PORT: String(port),
      DATABASE_URL: databaseUrl(dbName),
      APP_DATABASE_URL: databaseUrl(dbName, APP_USER, APP_PASSWORD),
      REDIS_URL,
      QUEUE_PREFIX: `{rbstart-${randomUUID()}}`,
      LOG_LEVEL: 'warn',
      BOOTSTRAP_ADMIN_TOKEN: '',
    }
    const proc = run('scripts/start.js', env, cwd)
    const tryLine = await until('the demo curl line', async () => /Try:\s+curl -s -H "Authorization: Bearer (\S+)" (\S+)/.exec(proc.output()), 60_000)
    const [, key, url] = tryLine
    const ready = await until('readiness', async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`)
      return r.status === 200 ? r : null
    })
    expect(await ready.json()).toMatchObject({ status: 'ready' })
    const res = await fetch(url!, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
    const agreements = (await res.json()) as { items: Array<{ caseType: string }> }
    expect(agreements.items.map((a) => a.caseType).sort()).toEqual(['first_registration', 'ipr_assessment', 'naturalisation', 'option'])
    expect((await fetch(`http://127.0.0.1:${port}/docs`)).status).toBe(200)
    expect(proc.output()).toContain('platform admin')
    const workbench = /Workbench: (\S+)/.exec(proc.output())?.[1]
    expect(workbench).toBe(`http://127.0.0.1:${port}/app/inloggen`)
    const signIn = await fetch(workbench!)
    expect(signIn.status).toBe(200)
    expect(await signIn.text()).toContain('<html lang="nl"')

    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)

    expect(proc.output()).toMatch(/demo database: BLOB_MASTER_KEY and BSN_HASH_KEY use the fixed development keys/)

    // A real deployment (an admin token) does not start on the development keys, and says which is missing.
    const token = `bootstrap-${randomBytes(24).toString('hex')}`
    const refused = run('scripts/start.js', { ...env, BOOTSTRAP_ADMIN_TOKEN: token }, cwd)
    expect(await refused.exited).toBe(1)
    expect(refused.output()).toMatch(/BLOB_MASTER_KEY is not set: set it to the base64 of 32 random bytes/)

    // With BOOTSTRAP_ADMIN_TOKEN and its own keys it seeds nothing more and that exact secret is an admin key.
    const second = run('scripts/start.js', { ...env, ...TEST_KEYS, BOOTSTRAP_ADMIN_TOKEN: token }, cwd)
    await until('readiness again', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000)
    expect(second.output()).toContain('nothing seeded')
    const regions = await fetch(`http://127.0.0.1:${port}/v1/regions`, { headers: { authorization: `Bearer ${token}` } })
    expect(regions.status).toBe(200)
    expect(((await regions.json()) as { items: unknown[] }).items).toHaveLength(1)
    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
  }, 120_000)
})
