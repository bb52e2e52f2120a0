// Issue 4, Idempotency-Key exactly as API.md's conventions fix it: same key and body → the stored
// status and body again with Idempotent-Replayed: true; same key, other body → 422; still in flight
// → 409; scoped per tenant; 1–255 characters.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, countCases, send, submitCase, toIntake, type CaseEventJson, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

const submit = (key: string, body: object, idempotencyKey: string) => send(t.app, 'POST', '/v1/cases', key, body, { 'idempotency-key': idempotencyKey })

describe('Idempotency-Key on POST /v1/cases', () => {
  it('replays the stored status, body, Location and ETag for the same key and body, and creates no second case', async () => {
    const m = region.members[0]
    const key = randomUUID()
    const body = caseBody()
    const before = await countCases(t.database.owner, m.id)
    const first = await submit(m.key, body, key)
    const created = expectOk<CaseJson>(first, 201)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    const replay = await submit(m.key, body, key)
    expect(replay.statusCode).toBe(201)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json()).toEqual(created)
    expect(replay.headers.location).toBe(first.headers.location)
    expect(replay.headers.etag).toBe('"1"')
    expect(replay.headers['content-type']).toMatch(/^application\/json/)
    expect(await countCases(t.database.owner, m.id)).toBe(before + 1)
  })

  it('replays the same body even after the case has moved on', async () => {
    const m = region.members[0]
    const key = randomUUID()
    const body = caseBody()
    const created = expectOk<CaseJson>(await submit(m.key, body, key), 201)
    await toIntake(t.database.db, created.hubTenantId, created.id)
    const replay = await submit(m.key, body, key)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json<CaseJson>()).toMatchObject({ id: created.id, status: 'submitted', version: 1 })
  })

  it('treats the body by content, not by the order of its properties', async () => {
    const m = region.members[0]
    const key = randomUUID()
    const body = caseBody()
    const created = expectOk<CaseJson>(await submit(m.key, body, key), 201)
    const reordered = { subject: { ...body.subject }, caseType: body.caseType }
    const replay = await submit(m.key, reordered, key)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json<CaseJson>().id).toBe(created.id)
  })

  it('422 idempotency-key-reused for the same key with another body', async () => {
    const m = region.members[0]
    const key = randomUUID()
    expectOk(await submit(m.key, caseBody(), key), 201)
    const before = await countCases(t.database.owner, m.id)
    expectProblem(await submit(m.key, caseBody(), key), 422, 'idempotency-key-reused')
    expectProblem(await submit(m.key, caseBody({ caseType: 'option' }), key), 422, 'idempotency-key-reused')
    expect(await countCases(t.database.owner, m.id)).toBe(before)
  })

  it('is scoped per tenant: another member using the same key and body creates its own case', async () => {
    const [a, b] = region.members
    const key = randomUUID()
    const body = caseBody()
    const first = expectOk<CaseJson>(await submit(a.key, body, key), 201)
    const beforeB = await countCases(t.database.owner, b.id)
    const other = await submit(b.key, body, key)
    const second = expectOk<CaseJson>(other, 201)
    expect(other.headers['idempotent-replayed']).toBeUndefined()
    expect(second.id).not.toBe(first.id)
    expect(second.memberTenantId).toBe(b.id)
    expect(await countCases(t.database.owner, b.id)).toBe(beforeB + 1)
    // A member of another region with the same key, too.
    const elsewhere = await newRegion(t.database.db)
    const third = expectOk<CaseJson>(await submit(elsewhere.members[0].key, body, key), 201)
    expect(third.memberTenantId).toBe(elsewhere.members[0].id)
  })

  it('creates exactly one case from eight concurrent requests with one key; the others are in flight or a replay', async () => {
    const r = await newRegion(t.database.db)
    const m = r.members[0]
    const key = randomUUID()
    const body = caseBody()
    const responses = await Promise.all(Array.from({ length: 8 }, () => submit(m.key, body, key)))
    expect(await countCases(t.database.owner, m.id)).toBe(1)
    const fresh = responses.filter((res) => res.statusCode === 201 && res.headers['idempotent-replayed'] === undefined)
    expect(fresh).toHaveLength(1)
    const id = fresh[0]!.json<CaseJson>().id
    for (const res of responses) {
      if (res === fresh[0]) continue
      if (res.statusCode === 409) {
        expectProblem(res, 409, 'idempotency-key-in-flight')
      } else {
        expect(res.statusCode, res.body).toBe(201)
        expect(res.headers['idempotent-replayed']).toBe('true')
        expect(res.json<CaseJson>().id).toBe(id)
      }
    }
    // Once the first has finished, the key answers with the replay.
    const after = await submit(m.key, body, key)
    expect(after.headers['idempotent-replayed']).toBe('true')
    expect(after.json<CaseJson>().id).toBe(id)
  })

  it('400 for a key longer than 255 characters, and for an empty one; 255 is fine', async () => {
    const m = region.members[1]
    const before = await countCases(t.database.owner, m.id)
    expectProblem(await submit(m.key, caseBody(), 'k'.repeat(256)), 400, 'invalid-request')
    expectProblem(await submit(m.key, caseBody(), ''), 400, 'invalid-request')
    expect(await countCases(t.database.owner, m.id)).toBe(before)
    expectOk(await submit(m.key, caseBody(), `${randomUUID()}${'k'.repeat(219)}`), 201)
  })

  it('replays a refusal too: a business-rule answer is an answer', async () => {
    const r = await newRegion(t.database.db, { agreementsFrom: '2999-01-01' })
    const m = r.members[0]
    const key = randomUUID()
    const body = caseBody()
    const first = await submit(m.key, body, key)
    expectProblem(first, 422, 'case-type-not-delegated')
    const replay = await submit(m.key, body, key)
    expect(replay.statusCode).toBe(422)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json()).toEqual(first.json())
  })
})

describe('Idempotency-Key on case actions', () => {
  it('a repeated withdraw replays the 200 instead of answering 409, and adds no event', async () => {
    const m = region.members[0]
    const c = await submitCase(t.app, m.key)
    const key = randomUUID()
    const withdraw = () => send(t.app, 'POST', `/v1/cases/${c.id}/withdraw`, m.key, { reason: 'double click' }, { 'idempotency-key': key })
    const first = await withdraw()
    expect(expectOk<CaseJson>(first)).toMatchObject({ status: 'withdrawn', version: 2 })
    const replay = await withdraw()
    expect(replay.statusCode).toBe(200)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.headers.etag).toBe('"2"')
    expect(replay.json()).toEqual(first.json())
    const events = expectOk<{ items: CaseEventJson[] }>(await send(t.app, 'GET', `/v1/cases/${c.id}/events`, m.key)).items
    expect(events.map((e) => e.action)).toEqual(['submit', 'withdraw'])
    // Without the key the member gets the honest answer.
    expectProblem(await send(t.app, 'POST', `/v1/cases/${c.id}/withdraw`, m.key, { reason: 'double click' }), 409, 'case-closed')
  })

  it('a key used for one case does not replay for another case', async () => {
    const m = region.members[0]
    const [a, b] = [await submitCase(t.app, m.key), await submitCase(t.app, m.key)]
    const key = randomUUID()
    expectOk(await send(t.app, 'POST', `/v1/cases/${a.id}/withdraw`, m.key, { reason: 'x' }, { 'idempotency-key': key }))
    const other = await send(t.app, 'POST', `/v1/cases/${b.id}/withdraw`, m.key, { reason: 'x' }, { 'idempotency-key': key })
    expectProblem(other, 422, 'idempotency-key-reused')
    expect((await send(t.app, 'GET', `/v1/cases/${b.id}`, m.key)).json<CaseJson>().status).toBe('submitted')
  })
})
