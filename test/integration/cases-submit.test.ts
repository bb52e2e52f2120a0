// Issue 4, case intake: the case-type catalogue, submitting a case (routing, reference, due date,
// checklist), every refusal of API.md for a submission, and what a submission leaves behind in the
// outbox (ids only — never the subject’s personal data), and the lists of cases.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, workingDaysAfter } from '../../api/domain/calendar.js'
import { CASE_TYPE_CODES, findCaseType, requiredDocumentsFor } from '../../api/domain/case-types.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, countCases, newSubject, send, submitCase, toIntake, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let region: RegionFixture
let memberKey: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  memberKey = region.members[0].key
})
afterAll(async () => t.close())

interface CaseTypeJson {
  code: string
  nameNl: string
  nameEn: string
  requiredDocuments: string[]
  requiredDocumentsByIprMatter?: Record<string, string[]>
  appointmentKinds: string[]
  handlingTermWorkingDays: number
  statutoryClocks: Array<{ code: string; term: { weeks?: number; years?: number; days?: number }; startsAt: string }>
}

const post = (body: object, key = memberKey) => send(t.app, 'POST', '/v1/cases', key, body)

/** Asserts a 400 naming exactly these `name:code` pairs (order free). */
function expectInvalid(res: Awaited<ReturnType<typeof post>>, ...expected: string[]) {
  const p = expectProblem(res, 400, 'invalid-request')
  const got = (p.invalidParams as Array<{ name: string; code: string }>).map((i) => `${i.name}:${i.code}`)
  expect(got.sort()).toEqual([...expected].sort())
}

describe('GET /v1/case-types', () => {
  it('lists the four case types with Dutch and English names, documents, handling term and clocks', async () => {
    const { items } = expectOk<{ items: CaseTypeJson[] }>(await send(t.app, 'GET', '/v1/case-types', memberKey))
    expect(items.map((i) => i.code)).toEqual([...CASE_TYPE_CODES])
    const byCode = new Map(items.map((i) => [i.code, i]))
    expect(byCode.get('naturalisation')).toMatchObject({
      nameNl: 'Naturalisatie',
      nameEn: 'Naturalisation',
      requiredDocuments: ['passport', 'residence_permit', 'birth_certificate', 'civic_integration_diploma'],
      appointmentKinds: ['intake_interview', 'ceremony'],
      handlingTermWorkingDays: 40,
    })
    const option = byCode.get('option')!
    expect(option).toMatchObject({ nameNl: 'Optie', nameEn: 'Option', handlingTermWorkingDays: 60 })
    expect(option.requiredDocuments).not.toContain('civic_integration_diploma')
    expect(option.statutoryClocks).toContainEqual(expect.objectContaining({ code: 'option_decision', term: { weeks: 13 }, startsAt: 'declaration_received' }))
    expect(byCode.get('first_registration')).toMatchObject({ nameEn: 'First registration in the BRP' })
    expect(byCode.get('first_registration')!.requiredDocuments).toContain('proof_of_address')
    expect(byCode.get('first_registration')!.statutoryClocks).toContainEqual(expect.objectContaining({ code: 'brp_overview', term: { weeks: 4 } }))
    const ipr = byCode.get('ipr_assessment')!
    expect(ipr.requiredDocumentsByIprMatter).toMatchObject({ marriage: ['marriage_certificate'], birth: ['birth_certificate'] })
    for (const item of items) {
      expect(item.nameNl.length).toBeGreaterThan(0)
      expect(item.nameEn.length).toBeGreaterThan(0)
      expect(item.handlingTermWorkingDays).toBeGreaterThan(0)
    }
  })

  it('needs a key', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/case-types' }), 401, 'unauthorized')
  })
})

describe('POST /v1/cases', () => {
  it('answers 201 with Location and ETag "1": submitted, referenced, routed, due date and a missing checklist', async () => {
    const today = dutchDate()
    const definition = findCaseType('naturalisation', today)!
    const subject = newSubject()
    const res = await post({ caseType: 'naturalisation', subject, externalReference: 'ZAAK-1', note: 'urgent' })
    const created = expectOk<CaseJson>(res, 201)
    expect(res.headers.location).toBe(`/v1/cases/${created.id}`)
    expect(res.headers.etag).toBe('"1"')
    expect(created).toMatchObject({
      caseType: 'naturalisation',
      status: 'submitted',
      memberTenantId: region.members[0].id,
      hubTenantId: region.hub.id,
      iprMatter: null,
      externalReference: 'ZAAK-1',
      assignedStaffId: null,
      subject,
      version: 1,
      dueDate: workingDaysAfter(today, definition.handlingTermWorkingDays),
    })
    expect(created.reference).toMatch(/^RB-\d{4}-\d{6}$/)
    expect(created.reference.slice(3, 7)).toBe(today.slice(0, 4))
    expect(created.checklist.map((i) => i.documentKind).sort()).toEqual([...definition.requiredDocuments].sort())
    expect(created.checklist.every((i) => i.status === 'missing')).toBe(true)
    const again = expectOk<CaseJson>(await send(t.app, 'GET', res.headers.location as string, memberKey))
    expect(again).toMatchObject({ id: created.id, reference: created.reference, status: 'submitted' })
  })

  it('takes the due date and checklist of each type; an IPR assessment adds the documents of its matter', async () => {
    const today = dutchDate()
    for (const [caseType, iprMatter] of [['option'], ['first_registration'], ['ipr_assessment', 'marriage']] as const) {
      const definition = findCaseType(caseType, today)!
      const created = await submitCase(t.app, memberKey, { caseType, ...(iprMatter ? { iprMatter } : {}) })
      expect(created.dueDate).toBe(workingDaysAfter(today, definition.handlingTermWorkingDays))
      expect(created.iprMatter).toBe(iprMatter ?? null)
      expect(created.checklist.map((i) => i.documentKind).sort()).toEqual(requiredDocumentsFor(definition, iprMatter ?? null).sort())
    }
  })

  it('accepts a first registration without a BSN', async () => {
    const { bsn: _bsn, ...withoutBsn } = newSubject()
    const created = await submitCase(t.app, memberKey, { caseType: 'first_registration', subject: withoutBsn })
    expect(created.subject).toEqual(withoutBsn)
  })

  describe('refuses invalid fields with 400 and invalidParams', () => {
    it('a BSN failing the 11-proef, and 000000000', async () => {
      expectInvalid(await post(caseBody({ subject: newSubject({ bsn: '123456789' }) })), 'subject.bsn:invalid-bsn')
      expectInvalid(await post(caseBody({ subject: newSubject({ bsn: '000000000' }) })), 'subject.bsn:invalid-bsn')
    })

    it('a BSN that is not nine digits', async () => {
      expectInvalid(await post(caseBody({ subject: newSubject({ bsn: '12345678' }) })), 'subject.bsn:invalid-format')
      expectInvalid(await post(caseBody({ subject: newSubject({ bsn: ' 12345678' }) })), 'subject.bsn:invalid-format')
      expectInvalid(await post(caseBody({ subject: newSubject({ bsn: '1234567820' }) })), 'subject.bsn:invalid-format')
    })

    it('a BSN sent as a JSON number, even a valid one (a number loses leading zeros): never coerced', async () => {
      const bsn = newSubject().bsn!
      expectInvalid(await post({ caseType: 'naturalisation', subject: { ...newSubject(), bsn: Number(bsn) } }), 'subject.bsn:invalid-type')
      // a BSN with a leading zero (011222333) would lose it as a number
      expectInvalid(await post({ caseType: 'naturalisation', subject: { ...newSubject(), bsn: 11222333 } }), 'subject.bsn:invalid-type')
      expect((await post(caseBody({ subject: newSubject({ bsn }) }))).statusCode).toBe(201)
    })

    it('no other body field is coerced either: a number where the contract says string', async () => {
      expectInvalid(await post({ caseType: 'naturalisation', subject: newSubject(), externalReference: 12345 }), 'externalReference:invalid-type')
      expectInvalid(await post({ caseType: 'naturalisation', subject: { ...newSubject(), surname: 42 } }), 'subject.surname:invalid-type')
    })

    it('query strings are still typed from text: ?limit=2 is the integer 2', async () => {
      const res = await send(t.app, 'GET', '/v1/cases?limit=2', memberKey)
      expect(res.statusCode, res.body).toBe(200)
      expect(res.json<{ items: unknown[] }>().items.length).toBeLessThanOrEqual(2)
      expect((await send(t.app, 'GET', '/v1/cases?limit=two', memberKey)).statusCode).toBe(400)
    })

    it('a birth date in the future, and one that is not a date', async () => {
      const tomorrow = addDays(dutchDate(), 1)
      expectInvalid(await post(caseBody({ subject: newSubject({ dateOfBirth: tomorrow }) })), 'subject.dateOfBirth:date-in-future')
      expect((await post(caseBody({ subject: newSubject({ dateOfBirth: '1990-02-30' }) }))).statusCode).toBe(400)
    })

    it('an unknown country', async () => {
      expectInvalid(await post(caseBody({ subject: newSubject({ nationality: 'XX' }) })), 'subject.nationality:unknown-country')
      expectInvalid(await post(caseBody({ subject: newSubject({ countryOfBirth: 'QQ' }) })), 'subject.countryOfBirth:unknown-country')
    })

    it('an unknown caseType', async () => {
      expectInvalid(await post(caseBody({ caseType: 'marriage' as never })), 'caseType:not-allowed')
    })

    it('iprMatter missing for ipr_assessment, or given for another type', async () => {
      const missing = expectProblem(await post(caseBody({ caseType: 'ipr_assessment' })), 400, 'invalid-request')
      expect(missing.invalidParams).toEqual([expect.objectContaining({ name: 'iprMatter' })])
      const extra = expectProblem(await post(caseBody({ caseType: 'option', iprMatter: 'birth' })), 400, 'invalid-request')
      expect(extra.invalidParams).toEqual([expect.objectContaining({ name: 'iprMatter' })])
      expectInvalid(await post(caseBody({ caseType: 'ipr_assessment', iprMatter: 'adoption' as never })), 'iprMatter:not-allowed')
    })

    it('unknown body properties: no mass assignment of status, tenantId, version or hubTenantId', async () => {
      expectInvalid(await post({ ...caseBody(), status: 'decided' }), 'status:unknown-property')
      expectInvalid(await post({ ...caseBody(), tenantId: region.members[1].id }), 'tenantId:unknown-property')
      expectInvalid(await post({ ...caseBody(), version: 7, hubTenantId: region.hub.id }), 'version:unknown-property', 'hubTenantId:unknown-property')
      expectInvalid(await post(caseBody({ subject: { ...newSubject(), gender: 'x' } as never })), 'subject.gender:unknown-property')
    })

    it('a missing subject or name', async () => {
      expectInvalid(await post({ caseType: 'option' }), 'subject:required')
      const { surname: _s, ...noSurname } = newSubject()
      expectInvalid(await post(caseBody({ subject: noSurname as never })), 'subject.surname:required')
    })

    it('and no refused submission leaves a case behind', async () => {
      const before = await countCases(t.database.owner, region.members[0].id)
      await post(caseBody({ subject: newSubject({ bsn: '123456789' }) }))
      await post({ ...caseBody(), status: 'decided' })
      expect(await countCases(t.database.owner, region.members[0].id)).toBe(before)
    })
  })

  describe('refuses a case type the member has not delegated today with 422 case-type-not-delegated', () => {
    const putAgreement = (memberId: string, caseType: string, body: object) =>
      send(t.app, 'PUT', `/v1/tenants/${memberId}/agreements/${caseType}`, adminKey, { tariffCents: 45_000, ...body })

    it('when the agreement starts in the future', async () => {
      const r = await newRegion(t.database.db)
      expectOk(await putAgreement(r.members[0].id, 'option', { validFrom: addDays(dutchDate(), 30) }))
      expectProblem(await post(caseBody({ caseType: 'option' }), r.members[0].key), 422, 'case-type-not-delegated')
      // Its other agreements still hold.
      await submitCase(t.app, r.members[0].key, { caseType: 'naturalisation' })
      expect(await countCases(t.database.owner, r.members[0].id)).toBe(1)
    })

    it('when the agreement has expired', async () => {
      const r = await newRegion(t.database.db)
      expectOk(await putAgreement(r.members[0].id, 'first_registration', { validFrom: '2020-01-01', validUntil: addDays(dutchDate(), -1) }))
      expectProblem(await post(caseBody({ caseType: 'first_registration' }), r.members[0].key), 422, 'case-type-not-delegated')
    })

    it('when the member has no agreement at all', async () => {
      const r = await newRegion(t.database.db, { agreementsFrom: addDays(dutchDate(), 1) })
      expectProblem(await post(caseBody(), r.members[1].key), 422, 'case-type-not-delegated')
      expect(await countCases(t.database.owner, r.members[1].id)).toBe(0)
    })
  })

  describe('is for a member’s client only', () => {
    it('403 when a hub’s client key submits', async () => {
      const res = await post(caseBody(), region.hub.key)
      expect(res.statusCode, res.body).toBe(403)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    })

    it('403 when a staff key submits, lead or specialist', async () => {
      for (const key of [region.lead.key, region.specialist.key]) {
        const res = await post(caseBody(), key)
        expect(res.statusCode, res.body).toBe(403)
      }
    })

    it('401 without a key', async () => {
      expectProblem(await t.app.inject({ method: 'POST', url: '/v1/cases', payload: caseBody() }), 401, 'unauthorized')
    })
  })
})

describe('references', () => {
  it('are distinct and consecutive for 20 parallel submissions of one member', async () => {
    const r = await newRegion(t.database.db)
    const created = await Promise.all(Array.from({ length: 20 }, () => submitCase(t.app, r.members[0].key)))
    const year = dutchDate().slice(0, 4)
    const numbers = created.map((c) => {
      const m = /^RB-(\d{4})-(\d{6})$/.exec(c.reference)
      expect(m?.[1]).toBe(year)
      return Number(m![2])
    })
    expect(new Set(numbers).size).toBe(20)
    const sorted = [...numbers].sort((a, b) => a - b)
    expect(sorted).toEqual(Array.from({ length: 20 }, (_, i) => sorted[0]! + i))
    expect(sorted[0]).toBe(1)
  })

  it('are counted per hub: both members of a region draw from one sequence', async () => {
    const r = await newRegion(t.database.db)
    const a = await submitCase(t.app, r.members[0].key)
    const b = await submitCase(t.app, r.members[1].key)
    expect([a.reference.slice(-6), b.reference.slice(-6)]).toEqual(['000001', '000002'])
    expect(b.hubTenantId).toBe(r.hub.id)
  })
})

describe('job payloads', () => {
  it('carry ids and the tenant only — never the BSN or the names of the subject', async () => {
    const r = await newRegion(t.database.db)
    const subject = newSubject()
    const created = await submitCase(t.app, r.members[0].key, { subject, note: 'géén persoonsgegevens hier' })
    const { rows } = await sql<{ queue: string; job_name: string; payload: unknown; text: string }>`
      select queue, job_name, payload, payload::text as text from outbox where payload->>'caseId' = ${created.id} order by id`.execute(t.database.owner)
    expect(rows.map((row) => `${row.queue}/${row.job_name}`).sort()).toEqual(['case-intake/intake-checks', 'notifications/case-event'])
    for (const row of rows) {
      expect(row.text).not.toContain(subject.bsn!)
      expect(row.text).not.toContain(subject.givenNames)
      expect(row.text).not.toContain(subject.givenNames.split(' ')[0]!)
      expect(row.text).not.toContain(subject.surname)
      expect(row.text).not.toContain(subject.dateOfBirth)
      expect(Object.keys(row.payload as object).sort()).toEqual(expect.arrayContaining(['caseId', 'tenantId']))
      for (const value of Object.values(row.payload as Record<string, unknown>)) expect(value).toMatch(/^[0-9a-f-]{36}$/)
    }
  })
})

describe('GET /v1/cases', () => {
  type ListJson = { items: Array<Record<string, unknown> & { id: string }>; nextCursor: string | null }
  const list = async (key: string, query = ''): Promise<ListJson> => expectOk<ListJson>(await send(t.app, 'GET', `/v1/cases${query}`, key))
  const ids = (l: ListJson) => l.items.map((i) => i.id)

  it('shows a member its own cases only, and a hub the cases of all its members, newest first', async () => {
    const r = await newRegion(t.database.db)
    const a1 = await submitCase(t.app, r.members[0].key)
    const b1 = await submitCase(t.app, r.members[1].key, { caseType: 'option' })
    const a2 = await submitCase(t.app, r.members[0].key, { caseType: 'first_registration' })
    await submitCase(t.app, region.members[0].key)
    expect(ids(await list(r.members[0].key))).toEqual([a2.id, a1.id])
    expect(ids(await list(r.members[1].key))).toEqual([b1.id])
    for (const key of [r.hub.key, r.lead.key, r.specialist.key]) {
      const hub = await list(key)
      expect(ids(hub)).toEqual([a2.id, b1.id, a1.id])
      expect(hub.nextCursor).toBeNull()
    }
  })

  it('carries no personal data in list items', async () => {
    const r = await newRegion(t.database.db)
    const subject = newSubject()
    const c = await submitCase(t.app, r.members[0].key, { subject })
    for (const key of [r.members[0].key, r.hub.key]) {
      const res = await send(t.app, 'GET', '/v1/cases', key)
      const { items } = expectOk<ListJson>(res)
      expect(items[0]).toMatchObject({ id: c.id, reference: c.reference, status: 'submitted', checklist: c.checklist })
      expect(items[0]).not.toHaveProperty('subject')
      for (const value of [subject.bsn!, subject.givenNames, subject.surname]) expect(res.body).not.toContain(value)
    }
  })

  it('filters by status, caseType, assignedTo (me or a staff id) and, for a hub, memberTenantId', async () => {
    const r = await newRegion(t.database.db)
    const nat = await submitCase(t.app, r.members[0].key)
    const opt = await submitCase(t.app, r.members[0].key, { caseType: 'option' })
    const other = await submitCase(t.app, r.members[1].key)
    await toIntake(t.database.db, r.hub.id, opt.id)
    expectOk(await send(t.app, 'POST', `/v1/cases/${opt.id}/assign`, r.specialist.key, { staffId: r.specialist.id }))
    expect(ids(await list(r.members[0].key, '?status=submitted'))).toEqual([nat.id])
    expect(ids(await list(r.hub.key, '?status=in_review'))).toEqual([opt.id])
    expect(ids(await list(r.hub.key, '?caseType=naturalisation'))).toEqual([other.id, nat.id])
    expect(ids(await list(r.members[0].key, '?caseType=option'))).toEqual([opt.id])
    expect(ids(await list(r.specialist.key, '?assignedTo=me'))).toEqual([opt.id])
    expect(ids(await list(r.lead.key, '?assignedTo=me'))).toEqual([])
    expect(ids(await list(r.hub.key, `?assignedTo=${r.specialist.id}`))).toEqual([opt.id])
    expect(ids(await list(r.hub.key, `?memberTenantId=${r.members[1].id}`))).toEqual([other.id])
    expect(ids(await list(r.lead.key, `?memberTenantId=${r.members[0].id}&caseType=naturalisation`))).toEqual([nat.id])
  })

  it('400 for an unknown filter, a bad value, and memberTenantId asked by a member', async () => {
    const r = await newRegion(t.database.db)
    const unknown = expectProblem(await send(t.app, 'GET', '/v1/cases?bsn=111222333', r.hub.key), 400, 'invalid-request')
    expect(unknown.invalidParams).toEqual([expect.objectContaining({ name: 'query.bsn', code: 'unknown-property' })])
    expectProblem(await send(t.app, 'GET', '/v1/cases?status=lost', r.hub.key), 400, 'invalid-request')
    expectProblem(await send(t.app, 'GET', '/v1/cases?assignedTo=someone', r.hub.key), 400, 'invalid-request')
    expectProblem(await send(t.app, 'GET', '/v1/cases?limit=0', r.hub.key), 400, 'invalid-request')
    const byMember = expectProblem(await send(t.app, 'GET', `/v1/cases?memberTenantId=${r.members[1].id}`, r.members[0].key), 400, 'invalid-request')
    expect(byMember.invalidParams).toEqual([expect.objectContaining({ name: 'query.memberTenantId' })])
  })

  it('walks every case exactly once with limit=2, and cases submitted meanwhile do not show up in later pages', async () => {
    const r = await newRegion(t.database.db)
    for (let i = 0; i < 5; i += 1) await submitCase(t.app, r.members[i % 2]!.key)
    for (const key of [r.hub.key, r.members[0].key]) {
      const all = ids(await list(key, '?limit=100'))
      const seen: string[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const page: ListJson = await list(key, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        expect(page.items.length).toBeLessThanOrEqual(2)
        seen.push(...ids(page))
        cursor = page.nextCursor
        pages += 1
        // Between pages, the member submits a new case: newer than every page already seen.
        await submitCase(t.app, r.members[0].key)
      } while (cursor && pages < 10)
      expect(seen).toEqual(all)
      expect(pages).toBe(Math.ceil(all.length / 2))
    }
  })

  it('403 for the platform administrator', async () => {
    expect((await send(t.app, 'GET', '/v1/cases', adminKey)).statusCode).toBe(403)
  })
})
