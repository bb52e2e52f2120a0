// Issue 11, the whole path in a real workers process: a member submits a case, the outbox relay
// moves the delivery's job into BullMQ, the notifications worker signs and POSTs it to a local
// receiver — verified with the reference library — and a failed attempt comes back through the
// sweep. The start log says that private networks are allowed.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../api/config.js'
import { createQueues } from '../../api/jobs/queues.js'
import { startWorkers, type WorkersHandle } from '../../workers/main.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { newSubject, submitCase } from '../helpers/case-builders.js'
import { eventually } from '../helpers/document-builders.js'
import { REDIS_URL, TEST_KEYS } from '../helpers/env.js'
import { answer, startReceiver, type Receiver } from '../helpers/webhook-receiver.js'
import { subscribe } from '../helpers/webhook-builders.js'

let t: TestApp
let region: RegionFixture
let receiver: Receiver
let workers: WorkersHandle
const logLines: string[] = []
const prefix = `{rbtest-${randomBytes(4).toString('hex')}}`

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  region = await newRegion(t.database.db)
  receiver = await startReceiver()
  const config = loadConfig({
    ...TEST_KEYS,
    DATABASE_URL: t.database.ownerUrl,
    APP_DATABASE_URL: t.database.appUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  })
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'))
      done()
    },
  })
  workers = await startWorkers(config, pino({ level: 'info' }, sink), { queues: ['notifications'] })
})
afterAll(async () => {
  await workers.close()
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const queues = createQueues(redis, prefix)
  for (const q of Object.values(queues)) {
    await q.obliterate({ force: true })
    await q.close()
  }
  redis.disconnect()
  await receiver.close()
  await t.close()
})

describe('the notifications worker', () => {
  it('says at start that private networks are allowed', () => {
    expect(logLines.some((l) => l.includes('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true'))).toBe(true)
  })

  it('delivers a case event, signed, and retries a failed attempt through the sweep', async () => {
    let calls = 0
    receiver.on('/live', (r, res) => {
      calls += 1
      // The first attempt fails; the retry about 5 s later succeeds.
      res.writeHead(calls === 1 ? 503 : 204).end()
    })
    const sub = await subscribe(t.app, region.members[0].key, { url: receiver.url('/live'), events: ['case.submitted'] })
    const c = await submitCase(t.app, region.members[0].key, { subject: newSubject() })
    expect(await eventually(async () => receiver.received.filter((r) => r.path === '/live').length >= 2, 20_000)).toBe(true)
    const [first, second] = receiver.received.filter((r) => r.path === '/live')
    expect(first!.headers['webhook-id']).toBe(second!.headers['webhook-id'])
    const body = new Webhook(sub.secret).verify(second!.body, second!.headers as Record<string, string>) as { type: string; data: { caseId: string } }
    expect(body).toMatchObject({ type: 'case.submitted', data: { caseId: c.id } })
    const gap = Number(second!.headers['webhook-timestamp']) - Number(first!.headers['webhook-timestamp'])
    expect(gap).toBeGreaterThanOrEqual(4)
    expect(gap).toBeLessThanOrEqual(12)
  }, 30_000)

  it('delivers a test event at once', async () => {
    receiver.on('/ping', answer(200))
    const sub = await subscribe(t.app, region.hub.key, { url: receiver.url('/ping'), events: ['webhook.test'] })
    const res = await t.app.inject({ method: 'POST', url: `/v1/webhooks/${sub.id}/test`, headers: { authorization: `Bearer ${region.hub.key}` } })
    expect(res.statusCode).toBe(202)
    expect(await eventually(async () => receiver.received.some((r) => r.path === '/ping'), 10_000)).toBe(true)
    const r = receiver.received.find((x) => x.path === '/ping')!
    expect(new Webhook(sub.secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
  })
})
