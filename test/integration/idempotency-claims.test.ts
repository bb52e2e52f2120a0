// Issue 13: an Idempotency-Key is claimed (or what is stored under it read) and completed by one
// statement each (idempotency_claim, idempotency_complete, migration 0026). The rarer answers stay
// as they were: a claim whose request died (in flight for longer than IN_FLIGHT_STALE_SECONDS) is
// taken over by the retry, which is processed afresh; a claim still fresh answers 409.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IN_FLIGHT_STALE_SECONDS } from '../../api/http/plugins/idempotency.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, countCases, send, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

const submit = (key: string, body: object, idempotencyKey: string) => send(t.app, 'POST', '/v1/cases', key, body, { 'idempotency-key': idempotencyKey })

/** Makes the stored answer under `key` look like the claim of a request that is still running (or died `ageSeconds` ago). */
const backInFlight = (key: string, ageSeconds: number) =>
  sql`update idempotency_keys set status = 'in_flight', response_status = null, response_body = null, response_headers = null,
        created_at = now() - make_interval(secs => ${ageSeconds})
      where idempotency_key = ${key}`.execute(t.database.owner)

describe('an Idempotency-Key held by a request', () => {
  it('that died is taken over by the retry, which is processed afresh and stored again', async () => {
    const m = region.members[0]
    const key = randomUUID()
    const body = caseBody()
    expectOk<CaseJson>(await submit(m.key, body, key), 201)
    await backInFlight(key, IN_FLIGHT_STALE_SECONDS + 60)
    const before = await countCases(t.database.owner, m.id)
    const retried = await submit(m.key, body, key)
    const created = expectOk<CaseJson>(retried, 201)
    expect(retried.headers['idempotent-replayed']).toBeUndefined()
    expect(await countCases(t.database.owner, m.id)).toBe(before + 1)
    const replay = await submit(m.key, body, key)
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.json()).toEqual(created)
  })

  it('that is still running answers 409 idempotency-key-in-flight, and 422 for another body', async () => {
    const m = region.members[1]
    const key = randomUUID()
    const body = caseBody()
    expectOk(await submit(m.key, body, key), 201)
    await backInFlight(key, 5)
    const before = await countCases(t.database.owner, m.id)
    expectProblem(await submit(m.key, body, key), 409, 'idempotency-key-in-flight')
    expectProblem(await submit(m.key, caseBody(), key), 422, 'idempotency-key-reused')
    expect(await countCases(t.database.owner, m.id)).toBe(before)
  })
})
