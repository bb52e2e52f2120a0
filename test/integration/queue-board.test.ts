// Issue 13, the queue dashboard: bull-board at /admin/queues for the platform admin's key only, with
// its own Content-Security-Policy, read-only, and of a job's data nothing but ids.
import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QUEUE_BOARD_CSP } from '../../api/http/plugins/queue-board.js'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'

let t: TestApp
let region: RegionFixture
let adminKey: string
let queue: Queue
const prefix = `{rbboard-${randomUUID()}}`
const caseId = randomUUID()
const tenantId = randomUUID()

beforeAll(async () => {
  t = await startTestApp({ QUEUE_PREFIX: prefix })
  region = await newRegion(t.database.db)
  adminKey = await newAdminKey(t.database.db)
  // A job with a payload that breaks the rule (a name), to show the board withholds it anyway.
  queue = new Queue('case-intake', { connection: t.redis, prefix })
  await queue.add('intake-checks', { tenantId, caseId, surname: 'Jansen' }, { jobId: 'board-test-1' })
})
afterAll(async () => {
  await queue.obliterate({ force: true })
  await queue.close()
  await t.close()
})

const get = (url: string, key?: string) => t.app.inject({ method: 'GET', url, headers: key ? bearer(key) : {} })

describe('/admin/queues', () => {
  it('refuses a request without a key (401) and every key but the platform admin’s (403), page and API alike', async () => {
    for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/queue/case-intake']) {
      const none = await get(url)
      expect(none.statusCode, url).toBe(401)
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(none.body).not.toContain('"queues"')
      for (const key of [region.hub.key, region.members[0].key, region.lead.key, region.specialist.key]) {
        const res = await get(url, key)
        expect(res.statusCode, url).toBe(403)
        expect(res.json<{ code: string }>().code).toBe('insufficient-scope')
      }
    }
    expect((await get('/admin/queues', 'rb_not_a_key')).statusCode).toBe(401)
  })

  it('serves the board to the platform admin under its own CSP, with its assets', async () => {
    const page = await get('/admin/queues', adminKey)
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).toBe(QUEUE_BOARD_CSP)
    expect(page.headers['cache-control']).toBe('no-store')
    expect(page.body).toContain('<base href="/admin/queues/"')
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1]
    expect(script).toBeDefined()
    const asset = await get(`/admin/queues/${script}`, adminKey)
    expect(asset.statusCode).toBe(200)
    expect(asset.headers['content-type']).toMatch(/javascript/)
    // The assets are for the admin too.
    expect((await get(`/admin/queues/${script}`)).statusCode).toBe(401)
    // The JSON API elsewhere keeps its own policy.
    expect((await get('/healthz')).headers['content-security-policy']).toContain("default-src 'none'")
  })

  it('lists the queues, read-only, and shows of a job its ids only', async () => {
    const res = await get('/admin/queues/api/queues?activeQueue=case-intake&status=latest&page=1', adminKey)
    expect(res.statusCode, res.body).toBe(200)
    const body = res.json<{ queues: Array<{ name: string; readOnlyMode: boolean; jobs: Array<{ id: string; data: unknown; returnValue: unknown }> }> }>()
    expect(body.queues.map((q) => q.name)).toEqual(expect.arrayContaining(['case-intake', 'document-review', 'notifications']))
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true)
    const job = body.queues.find((q) => q.name === 'case-intake')!.jobs.find((j) => j.id === 'board-test-1')
    expect(job?.data).toEqual({ tenantId, caseId, surname: '[withheld]' })
    expect(res.body).not.toContain('Jansen')
    const one = await get('/admin/queues/api/queues/case-intake/board-test-1', adminKey)
    expect(one.statusCode, one.body).toBe(200)
    expect(one.body).not.toContain('Jansen')
    // Read-only: a change is refused and the job stays.
    const clean = await t.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/case-intake/clean/waiting', headers: bearer(adminKey) })
    expect(clean.statusCode).toBe(405)
    expect(await queue.getJob('board-test-1')).toBeDefined()
  })
})
