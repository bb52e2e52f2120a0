// Issue 4, privacy and tenancy of cases: every read of a case is written to the access log, which
// the member and the hub of the case (and nobody else) can search by case or by BSN; a BSN is never
// stored in clear nor put in a URL; and another tenant's case is a 404 on every case route.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { newSubject, send, submitCase, toIntake, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import type { components } from '../../openapi/types.gen.js'

let t: TestApp
let adminKey: string
let region: RegionFixture
let elsewhere: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  elsewhere = await newRegion(t.database.db)
})
afterAll(async () => t.close())

type EntryJson = components['schemas']['AccessLogEntry']
type EntryList = { items: EntryJson[]; nextCursor: string | null }

const search = (key: string, body: object) => send(t.app, 'POST', '/v1/access-log/search', key, body)
const entries = async (key: string, body: object): Promise<EntryJson[]> => expectOk<EntryList>(await search(key, body)).items
const read = (key: string, caseId: string) => send(t.app, 'GET', `/v1/cases/${caseId}`, key)

/** Access-log rows of a case, counted behind RLS. */
const logged = async (caseId: string): Promise<number> =>
  (await sql<{ n: number }>`select count(*)::int as n from access_log where case_id = ${caseId}`.execute(t.database.owner)).rows[0]!.n

describe('the access log', () => {
  it('gets an entry for each read by the member and by hub staff; both find them by case and by BSN, newest first', async () => {
    const subject = newSubject()
    const c = await submitCase(t.app, region.members[0].key, { subject })
    expect(await logged(c.id)).toBe(0)
    expectOk(await read(region.members[0].key, c.id))
    expectOk(await read(region.specialist.key, c.id))
    const expected = [
      { caseId: c.id, documentId: null, action: 'case.read', purpose: 'case-handling', actorTenantId: region.hub.id, actor: { kind: 'staff', id: region.specialist.id } },
      { caseId: c.id, documentId: null, action: 'case.read', purpose: 'case-tracking', actorTenantId: region.members[0].id, actor: { kind: 'client' } },
    ]
    for (const key of [region.members[0].key, region.hub.key, region.lead.key]) {
      for (const query of [{ caseId: c.id }, { bsn: subject.bsn }]) {
        const items = await entries(key, query)
        expect(items).toMatchObject(expected)
        expect(items).toHaveLength(2)
        expect(Date.parse(items[0]!.at)).toBeGreaterThanOrEqual(Date.parse(items[1]!.at))
      }
    }
  })

  it('finds the reads of one person across cases by BSN, and pages with a cursor', async () => {
    const subject = newSubject()
    const first = await submitCase(t.app, region.members[0].key, { subject })
    const second = await submitCase(t.app, region.members[0].key, { subject, caseType: 'option' })
    for (const id of [first.id, second.id, first.id]) expectOk(await read(region.members[0].key, id))
    const all = await entries(region.members[0].key, { bsn: subject.bsn })
    expect(all.map((e) => e.caseId)).toEqual([first.id, second.id, first.id])
    const walked: string[] = []
    let cursor: string | null = null
    do {
      const page: EntryList = expectOk<EntryList>(await search(region.members[0].key, { bsn: subject.bsn, limit: 1, ...(cursor ? { cursor } : {}) }))
      walked.push(...page.items.map((e) => e.id))
      cursor = page.nextCursor
    } while (cursor && walked.length < 10)
    expect(walked).toEqual(all.map((e) => e.id))
  })

  it('shows nothing of a case to the other member of the region nor to another region’s hub', async () => {
    const subject = newSubject()
    const c = await submitCase(t.app, region.members[0].key, { subject })
    expectOk(await read(region.members[0].key, c.id))
    expectOk(await read(region.lead.key, c.id))
    for (const key of [region.members[1].key, elsewhere.hub.key, elsewhere.lead.key, elsewhere.members[0].key]) {
      expect(await entries(key, { caseId: c.id })).toEqual([])
      expect(await entries(key, { bsn: subject.bsn })).toEqual([])
    }
  })

  it('writes no entry for a failed read', async () => {
    const c = await submitCase(t.app, region.members[0].key)
    for (const key of [region.members[1].key, elsewhere.lead.key, elsewhere.members[0].key]) {
      expectProblem(await read(key, c.id), 404, 'not-found')
    }
    expectProblem(await read(region.members[0].key, randomUUID()), 404, 'not-found')
    expect(await logged(c.id)).toBe(0)
    expect(await entries(region.members[0].key, { caseId: c.id })).toEqual([])
  })

  it('records a read of a case without a BSN too', async () => {
    const { bsn: _bsn, ...noBsn } = newSubject()
    const c = await submitCase(t.app, region.members[1].key, { caseType: 'first_registration', subject: noBsn })
    expectOk(await read(region.hub.key, c.id))
    expect(await entries(region.members[1].key, { caseId: c.id })).toMatchObject([{ action: 'case.read', actor: { kind: 'client' }, actorTenantId: region.hub.id }])
  })

  it('400 for an invalid BSN, for both or neither of caseId and bsn', async () => {
    const p = expectProblem(await search(region.members[0].key, { bsn: '123456789' }), 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'bsn', code: 'invalid-bsn' })])
    expect(JSON.stringify(p)).not.toContain('123456789')
    expectProblem(await search(region.members[0].key, { bsn: '000000000' }), 400, 'invalid-request')
    expectProblem(await search(region.members[0].key, { bsn: '12345' }), 400, 'invalid-request')
    // a JSON number is refused, never coerced to a string (a BSN is exactly nine digits as text)
    expectProblem(await search(region.members[0].key, { bsn: Number(newSubject().bsn) }), 400, 'invalid-request')
    const both = expectProblem(await search(region.members[0].key, { bsn: newSubject().bsn, caseId: randomUUID() }), 400, 'invalid-request')
    expect(both.invalidParams).toEqual([
      { name: 'caseId', code: 'exactly-one-of', reason: 'give exactly one of caseId and bsn, not both' },
      { name: 'bsn', code: 'exactly-one-of', reason: 'give exactly one of caseId and bsn, not both' },
    ])
    expect(both.detail).toMatch(/exactly one of caseId and bsn/)
    const neither = expectProblem(await search(region.members[0].key, {}), 400, 'invalid-request')
    const reason = 'give exactly one of caseId and bsn (neither was given)'
    expect(neither.invalidParams).toEqual([
      { name: 'caseId', code: 'exactly-one-of', reason },
      { name: 'bsn', code: 'exactly-one-of', reason },
    ])
    expectProblem(await search(region.members[0].key, { caseId: randomUUID(), actorId: 'x' }), 400, 'invalid-request')
  })

  it('is not for the platform administrator', async () => {
    expect((await search(adminKey, { caseId: randomUUID() })).statusCode).toBe(403)
  })
})

describe('a BSN', () => {
  it('is never stored in clear in the access log', async () => {
    const subject = newSubject()
    const c = await submitCase(t.app, region.members[0].key, { subject })
    expectOk(await read(region.members[0].key, c.id))
    expectOk(await read(region.specialist.key, c.id))
    const { rows } = await sql<{ row: string }>`select row_to_json(a)::text as row from access_log a where case_id = ${c.id}`.execute(t.database.owner)
    expect(rows).toHaveLength(2)
    for (const { row } of rows) {
      expect(row).not.toContain(subject.bsn!)
      expect(row).not.toContain(subject.surname)
    }
    const { rows: all } = await sql<{ row: string }>`select row_to_json(a)::text as row from access_log a`.execute(t.database.owner)
    expect(all.filter(({ row }) => row.includes(subject.bsn!))).toEqual([])
    const { rows: columns } = await sql<{ column_name: string }>`
      select column_name from information_schema.columns where table_name = 'access_log' and column_name like '%bsn%'`.execute(t.database.owner)
    expect(columns.map((col) => col.column_name)).toEqual(['bsn_hash'])
  })

  it('never goes in a URL: no path or query parameter of the contract carries one, and a query with one is refused', async () => {
    const spec = expectOk<{ paths: Record<string, Record<string, { parameters?: Array<{ name?: string; in?: string; $ref?: string }> }>> }>(
      await t.app.inject({ method: 'GET', url: '/openapi.json' }),
    )
    for (const [path, operations] of Object.entries(spec.paths)) {
      expect(path.toLowerCase()).not.toContain('bsn')
      for (const op of Object.values(operations)) {
        for (const param of op.parameters ?? []) expect(`${param.name ?? ''}${param.$ref ?? ''}`.toLowerCase()).not.toContain('bsn')
      }
    }
    const subject = newSubject()
    const res = await send(t.app, 'POST', '/v1/cases', region.members[0].key, { caseType: 'option', subject })
    expect(res.headers.location).not.toContain(subject.bsn!)
    expectProblem(await send(t.app, 'GET', `/v1/cases?bsn=${subject.bsn}`, region.members[0].key), 400, 'invalid-request')
  })
})

describe('another tenant’s case', () => {
  const routes = (c: CaseJson, staffId: string) =>
    [
      ['GET', `/v1/cases/${c.id}`, undefined],
      ['GET', `/v1/cases/${c.id}/events`, undefined],
      ['POST', `/v1/cases/${c.id}/withdraw`, { reason: 'not mine' }],
      ['POST', `/v1/cases/${c.id}/assign`, { staffId }],
      ['POST', `/v1/cases/${c.id}/request-information`, { message: 'send it', documentKinds: ['passport'] }],
      ['POST', `/v1/cases/${c.id}/decide`, { outcome: 'advise_grant', note: 'ok' }],
      ['POST', `/v1/cases/${c.id}/close`, undefined],
    ] as const

  it('is a 404 on every case route for the other member of the region, another region’s member and hub', async () => {
    const c = await submitCase(t.app, region.members[0].key)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    const outsiders = [
      { who: 'other member', key: region.members[1].key, staffId: region.specialist.id },
      { who: 'member elsewhere', key: elsewhere.members[0].key, staffId: elsewhere.specialist.id },
      { who: 'lead elsewhere', key: elsewhere.lead.key, staffId: elsewhere.specialist.id },
      { who: 'specialist elsewhere', key: elsewhere.specialist.key, staffId: elsewhere.specialist.id },
      { who: 'hub client elsewhere', key: elsewhere.hub.key, staffId: elsewhere.lead.id },
    ]
    for (const o of outsiders) {
      for (const [method, url, body] of routes(c, o.staffId)) {
        const res = await send(t.app, method, url, o.key, body)
        expect({ who: o.who, method, url, status: res.statusCode }).toEqual({ who: o.who, method, url, status: 404 })
        expectProblem(res, 404, 'not-found')
      }
    }
    // Exactly as a case that does not exist.
    const missing = { ...c, id: randomUUID() }
    for (const [method, url, body] of routes(missing, region.specialist.id)) {
      expectProblem(await send(t.app, method, url, region.lead.key, body), 404, 'not-found')
    }
    expect(await read(region.members[0].key, c.id).then((r) => r.json<CaseJson>())).toMatchObject({ status: 'intake', version: 2, assignedStaffId: null })
  })

  it('case routes answer 403 to the platform administrator', async () => {
    const c = await submitCase(t.app, region.members[0].key)
    expect((await send(t.app, 'POST', '/v1/cases', adminKey, { caseType: 'option', subject: newSubject() })).statusCode).toBe(403)
    expect((await send(t.app, 'GET', '/v1/cases', adminKey)).statusCode).toBe(403)
    for (const [method, url, body] of routes(c, region.specialist.id)) {
      const res = await send(t.app, method, url, adminKey, body)
      expect({ method, url, status: res.statusCode }).toEqual({ method, url, status: 403 })
    }
    expect(await logged(c.id)).toBe(0)
  })
})
