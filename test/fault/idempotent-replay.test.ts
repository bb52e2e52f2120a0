// Idempotent replay re-checks who asks (issue 9): a stored response goes back only to the principal
// that made the request; another principal with the same Idempotency-Key gets its own authorisation
// result. Stored responses never hold a one-time secret or personal data in clear text.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { ADMIN, newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, newSubject, validBsn } from '../helpers/case-builders.js'
import { expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

const post = (url: string, key: string, idem: string, payload: object) =>
  t.app.inject({ method: 'POST', url, headers: { ...bearer(key), 'idempotency-key': idem }, payload })

const storedRows = async () =>
  (await sql<{ response_body: string | null; request_hash: Buffer }>`select response_body, request_hash from idempotency_keys`.execute(t.database.owner)).rows

const count = async (table: string) => (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.database.owner)).rows[0]!.n

describe('a replay by another principal', () => {
  it('a specialist reusing the lead’s key for creating staff gets 403, not the lead’s stored answer with the new key', async () => {
    const payload = { name: 'Nieuwe collega', email: 'nieuw@hub.invalid', role: 'specialist', skills: ['option'] }
    const url = `/v1/tenants/${region.hub.id}/staff`
    const first = await post(url, region.lead.key, 'staff-1', payload)
    expect(first.statusCode).toBe(201)
    const secret = first.json<{ key: string }>().key
    const staffBefore = await count('staff')

    const other = await post(url, region.specialist.key, 'staff-1', payload)
    expectProblem(other, 403, 'forbidden')
    expect(other.body).not.toContain(secret)
    expect(other.headers['idempotent-replayed']).toBeUndefined()

    const again = await post(url, region.lead.key, 'staff-1', payload)
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json<{ key: string }>().key).toBe(secret)
    expect(await count('staff')).toBe(staffBefore)
  })

  it('another client key of the same municipality is processed as a new request: its own case, not the first one', async () => {
    const second = await tenancy.createApiKey(t.database.db, ADMIN, region.members[0].id, { name: 'second system' })
    const body = caseBody()
    const a = await post('/v1/cases', region.members[0].key, 'case-1', body)
    const b = await post('/v1/cases', second.key, 'case-1', body)
    const a2 = await post('/v1/cases', region.members[0].key, 'case-1', body)
    expect([a.statusCode, b.statusCode, a2.statusCode]).toEqual([201, 201, 201])
    expect(b.headers['idempotent-replayed']).toBeUndefined()
    expect(a2.headers['idempotent-replayed']).toBe('true')
    expect(b.json<{ id: string }>().id).not.toBe(a.json<{ id: string }>().id)
    expect(a2.json<{ id: string }>().id).toBe(a.json<{ id: string }>().id)
  })

  it('the platform admin’s replay is still its own', async () => {
    const r1 = await post('/v1/regions', adminKey, 'region-1', { name: 'Regio Replay' })
    const r2 = await post('/v1/regions', adminKey, 'region-1', { name: 'Regio Replay' })
    expect(r2.headers['idempotent-replayed']).toBe('true')
    expect(r2.json<{ id: string }>().id).toBe(r1.json<{ id: string }>().id)
  })
})

describe('what the idempotency store keeps', () => {
  it('never a one-time secret in clear text (a new API key, a staff key), yet the creator’s replay has it', async () => {
    const created = await post(`/v1/tenants/${region.members[1].id}/api-keys`, adminKey, 'key-1', { name: 'kassa' })
    expect(created.statusCode).toBe(201)
    const secret = created.json<{ key: string }>().key
    const rows = await storedRows()
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) {
      expect(r.response_body ?? '').not.toContain(secret)
      expect(r.response_body ?? '').not.toContain(secret.slice(8, 30))
    }
    const again = await post(`/v1/tenants/${region.members[1].id}/api-keys`, adminKey, 'key-1', { name: 'kassa' })
    expect(again.json<{ key: string }>().key).toBe(secret)
  })

  it('never a BSN or a name in clear text', async () => {
    const bsn = validBsn()
    const subject = newSubject({ bsn, surname: 'Zwanenburg-Idempotent', givenNames: 'Wilhelmina' })
    const res = await post('/v1/cases', region.members[1].key, 'case-pii', caseBody({ subject }))
    expect(res.statusCode).toBe(201)
    const dump = JSON.stringify((await sql`select * from idempotency_keys`.execute(t.database.owner)).rows)
    expect(dump).not.toContain(bsn)
    expect(dump).not.toContain('Zwanenburg')
    expect(dump).not.toContain('Wilhelmina')
    const again = await post('/v1/cases', region.members[1].key, 'case-pii', caseBody({ subject }))
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json<{ id: string }>().id).toBe(res.json<{ id: string }>().id)
  })

  it('a stored response that was tampered with is not replayed as if it were genuine', async () => {
    const res = await post('/v1/regions', adminKey, 'region-tamper', { name: 'Regio Tamper' })
    expect(res.statusCode).toBe(201)
    await sql`update idempotency_keys set response_body = 'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA' where idempotency_key = 'region-tamper'`.execute(t.database.owner)
    const again = await post('/v1/regions', adminKey, 'region-tamper', { name: 'Regio Tamper' })
    expect(again.statusCode).toBe(500)
    expect(again.body).not.toContain('Regio Tamper')
  })
})
