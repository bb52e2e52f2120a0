// Issue 4, the case lifecycle over HTTP: intake by the system, assignment, asking for information,
// deciding, closing and withdrawing — who may do each, the refusals of API.md, optimistic
// concurrency with If-Match/ETag, and the timeline of events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addDays, workingDaysAfter } from '../../api/domain/calendar.js'
import { dutchDate } from '../../api/time.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { acceptChecklist, act, getCase, send, submitCase, toIntake, type CaseEventJson, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem, newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let region: RegionFixture
let member: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
  member = region.members[0].key
})
afterAll(async () => t.close())

const events = async (caseId: string, key = member): Promise<CaseEventJson[]> =>
  expectOk<{ items: CaseEventJson[] }>(await send(t.app, 'GET', `/v1/cases/${caseId}/events`, key)).items

/** A submitted case moved to intake by the intake checks. */
async function inIntake(caseType: 'naturalisation' | 'option' | 'first_registration' = 'naturalisation'): Promise<CaseJson> {
  const c = await submitCase(t.app, member, { caseType })
  expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
  return getCase(t.app, member, c.id)
}

/** A case in review, assigned by the lead to the specialist. */
async function inReview(): Promise<CaseJson> {
  const c = await inIntake()
  return expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
}

describe('intake', () => {
  it('the intake checks move a submitted case to intake, as the system, and leave it alone the second time', async () => {
    const c = await submitCase(t.app, member)
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
    const res = await send(t.app, 'GET', `/v1/cases/${c.id}`, member)
    expect(expectOk<CaseJson>(res)).toMatchObject({ status: 'intake', version: 2, dueDate: c.dueDate })
    expect(res.headers.etag).toBe('"2"')
    expect((await events(c.id)).at(-1)).toMatchObject({ action: 'route', from: 'submitted', to: 'intake', actor: { kind: 'system' }, version: 2 })
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('skipped')
    expect(await events(c.id)).toHaveLength(2)
  })

  it('reject a case whose agreement no longer holds on the submission date', async () => {
    const r = await newRegion(t.database.db)
    const c = await submitCase(t.app, r.members[0].key, { caseType: 'option' })
    expectOk(await send(t.app, 'PUT', `/v1/tenants/${r.members[0].id}/agreements/option`, adminKey, { tariffCents: 1, validFrom: addDays(dutchDate(), 10) }))
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('rejected')
    expect((await getCase(t.app, r.hub.key, c.id)).status).toBe('rejected_at_intake')
    expect((await events(c.id, r.hub.key)).at(-1)).toMatchObject({ action: 'reject_at_intake', from: 'submitted', to: 'rejected_at_intake', actor: { kind: 'system' } })
  })

  it('reject the case of a member suspended after it submitted', async () => {
    const r = await newRegion(t.database.db)
    const c = await submitCase(t.app, r.members[0].key)
    expectOk(await send(t.app, 'PATCH', `/v1/tenants/${r.members[0].id}`, adminKey, { status: 'suspended' }))
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('rejected')
    expect((await getCase(t.app, r.hub.key, c.id)).status).toBe('rejected_at_intake')
  })
})

describe('POST /v1/cases/{id}/assign', () => {
  it('by a lead: the case goes into review with that specialist', async () => {
    const c = await inIntake()
    const res = await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id })
    expect(expectOk<CaseJson>(res)).toMatchObject({ status: 'in_review', assignedStaffId: region.specialist.id, version: 3 })
    expect(res.headers.etag).toBe('"3"')
  })

  it('a specialist may assign himself, and a lead may reassign', async () => {
    const c = await inIntake('option')
    expect(expectOk<CaseJson>(await act(t.app, region.specialist.key, c.id, 'assign', { staffId: region.specialist.id }))).toMatchObject({
      status: 'in_review',
      assignedStaffId: region.specialist.id,
    })
    const reassigned = expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.lead.id }))
    expect(reassigned).toMatchObject({ status: 'in_review', assignedStaffId: region.lead.id, version: 4 })
  })

  it('403 when a specialist assigns someone else, a member or the hub’s client key assigns', async () => {
    const c = await inIntake()
    const other = await newStaff(t.database.db, region.hub.id)
    expect((await act(t.app, region.specialist.key, c.id, 'assign', { staffId: other.id })).statusCode).toBe(403)
    expect((await act(t.app, member, c.id, 'assign', { staffId: region.specialist.id })).statusCode).toBe(403)
    expect((await act(t.app, region.hub.key, c.id, 'assign', { staffId: region.specialist.id })).statusCode).toBe(403)
    expect(await getCase(t.app, member, c.id)).toMatchObject({ status: 'intake', assignedStaffId: null, version: 2 })
  })

  it('422 staff-lacks-skill for a specialist without the case type', async () => {
    const c = await inIntake('first_registration')
    expectProblem(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }), 422, 'staff-lacks-skill')
    expectProblem(await act(t.app, region.specialist.key, c.id, 'assign', { staffId: region.specialist.id }), 422, 'staff-lacks-skill')
    expect(expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.lead.id })).assignedStaffId).toBe(region.lead.id)
  })

  it('refuses staff of another hub, who are not this hub’s to assign', async () => {
    const c = await inIntake()
    const elsewhere = await newRegion(t.database.db)
    const res = await act(t.app, region.lead.key, c.id, 'assign', { staffId: elsewhere.specialist.id })
    expect(res.statusCode).toBe(422)
    expect((await getCase(t.app, member, c.id)).assignedStaffId).toBeNull()
  })
})

describe('POST /v1/cases/{id}/request-information', () => {
  it('by the assigned specialist: awaiting_information, and the requested kind is on the checklist as missing', async () => {
    const c = await inReview()
    const res = await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'Please send the marriage certificate', documentKinds: ['marriage_certificate'] })
    const updated = expectOk<CaseJson>(res)
    expect(updated).toMatchObject({ status: 'awaiting_information', version: 4 })
    expect(updated.checklist).toContainEqual({ documentKind: 'marriage_certificate', status: 'missing' })
    expect(updated.checklist).toHaveLength(c.checklist.length + 1)
    expect((await events(c.id)).at(-1)).toMatchObject({ action: 'request_information', from: 'in_review', to: 'awaiting_information', reason: 'Please send the marriage certificate' })
  })

  it('403 not-assigned for staff who are not assigned, even the lead; 403 for the member', async () => {
    const c = await inReview()
    const body = { message: 'more please', documentKinds: ['passport'] }
    expectProblem(await act(t.app, region.lead.key, c.id, 'request-information', body), 403, 'not-assigned')
    expect((await act(t.app, member, c.id, 'request-information', body)).statusCode).toBe(403)
    expect((await getCase(t.app, member, c.id)).status).toBe('in_review')
  })

  it('a requested kind is missing again even when it had been accepted', async () => {
    const c = await inReview()
    await acceptChecklist(t.database.owner, c.id)
    const updated = expectOk<CaseJson>(
      await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'The passport has expired; send a valid one', documentKinds: ['passport'] }),
    )
    expect(updated.checklist).toContainEqual({ documentKind: 'passport', status: 'missing' })
  })

  it('409 when the case is not in review, and the requested kinds are not added', async () => {
    const c = await inReview()
    expectOk(await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'first', documentKinds: ['other'] }))
    const again = await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'second', documentKinds: ['divorce_decree'] })
    expect(again.statusCode).toBe(409)
    expect((await getCase(t.app, member, c.id)).checklist.map((i) => i.documentKind)).not.toContain('divorce_decree')
  })
})

describe('POST /v1/cases/{id}/decide', () => {
  it('409 checklist-incomplete until every item is accepted, then 200 decided with the decision', async () => {
    const c = await inReview()
    const body = { outcome: 'advise_grant', note: 'All requirements met' }
    const refused = expectProblem(await act(t.app, region.specialist.key, c.id, 'decide', body), 409, 'checklist-incomplete')
    expect(refused.detail).toContain('passport')
    expect((await getCase(t.app, member, c.id)).status).toBe('in_review')
    await acceptChecklist(t.database.owner, c.id)
    const res = await act(t.app, region.specialist.key, c.id, 'decide', body)
    const decided = expectOk<CaseJson>(res)
    expect(decided).toMatchObject({ status: 'decided', version: 4, decision: { outcome: 'advise_grant', note: 'All requirements met' } })
    expect(Date.parse(decided.decision!.decidedAt!)).not.toBeNaN()
    expect(res.headers.etag).toBe('"4"')
  })

  it('403 not-assigned for anyone but the assigned specialist', async () => {
    const c = await inReview()
    await acceptChecklist(t.database.owner, c.id)
    expectProblem(await act(t.app, region.lead.key, c.id, 'decide', { outcome: 'advise_refuse', note: 'no' }), 403, 'not-assigned')
    expect((await act(t.app, member, c.id, 'decide', { outcome: 'advise_grant', note: 'yes' })).statusCode).toBe(403)
    expect((await act(t.app, region.hub.key, c.id, 'decide', { outcome: 'advise_grant', note: 'yes' })).statusCode).toBe(403)
  })

  it('400 naming outcome for a value no case type knows', async () => {
    const c = await inReview()
    expectProblem(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'maybe', note: 'x' }), 400, 'invalid-request')
  })
})

describe('POST /v1/cases/{id}/close', () => {
  it('the hub closes a decided case; a member may not; an open case cannot be closed', async () => {
    const c = await inReview()
    expect((await act(t.app, region.lead.key, c.id, 'close')).statusCode).toBe(409)
    await acceptChecklist(t.database.owner, c.id)
    expectOk(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_refuse', note: 'Civic integration not shown' }))
    expect((await act(t.app, member, c.id, 'close')).statusCode).toBe(403)
    expect(expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'close'))).toMatchObject({ status: 'closed', version: 5 })
    expectProblem(await act(t.app, region.lead.key, c.id, 'close'), 409, 'case-closed')
  })

  it('the hub’s client key closes a withdrawn case', async () => {
    const c = await submitCase(t.app, member)
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'moved abroad' }))
    expect(expectOk<CaseJson>(await act(t.app, region.hub.key, c.id, 'close')).status).toBe('closed')
  })
})

describe('POST /v1/cases/{id}/withdraw', () => {
  it('by the member: withdrawn; a second time 409 case-closed', async () => {
    const c = await inReview()
    const res = await act(t.app, member, c.id, 'withdraw', { reason: 'The applicant moved to Belgium' })
    expect(expectOk<CaseJson>(res)).toMatchObject({ status: 'withdrawn', version: 4 })
    expect(res.headers.etag).toBe('"4"')
    expectProblem(await act(t.app, member, c.id, 'withdraw', { reason: 'again' }), 409, 'case-closed')
    expect((await events(c.id)).at(-1)).toMatchObject({ action: 'withdraw', from: 'in_review', to: 'withdrawn', actor: { kind: 'member' }, reason: 'The applicant moved to Belgium' })
  })

  it('403 for hub staff and for the hub’s client key', async () => {
    const c = await inIntake()
    for (const key of [region.lead.key, region.specialist.key, region.hub.key]) {
      expect((await act(t.app, key, c.id, 'withdraw', { reason: 'not ours to withdraw' })).statusCode).toBe(403)
    }
    expect((await getCase(t.app, member, c.id)).status).toBe('intake')
  })

  it('409 case-closed for a decided case', async () => {
    const c = await inReview()
    await acceptChecklist(t.database.owner, c.id)
    expectOk(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_grant', note: 'ok' }))
    expectProblem(await act(t.app, member, c.id, 'withdraw', { reason: 'too late' }), 409, 'case-closed')
  })

  it('400 without a reason', async () => {
    const c = await submitCase(t.app, member)
    expectProblem(await act(t.app, member, c.id, 'withdraw', {}), 400, 'invalid-request')
  })
})

describe('optimistic concurrency', () => {
  it('412 version-mismatch for a stale If-Match, which changes nothing; the current one passes', async () => {
    const c = await inIntake()
    const stale = await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }, 1)
    expectProblem(stale, 412, 'version-mismatch')
    expect(await getCase(t.app, member, c.id)).toMatchObject({ status: 'intake', version: 2 })
    const current = await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }, 2)
    expect(expectOk<CaseJson>(current).version).toBe(3)
    expect(current.headers.etag).toBe('"3"')
    expectProblem(await act(t.app, member, c.id, 'withdraw', { reason: 'x' }, 2), 412, 'version-mismatch')
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'x' }, 3))
  })

  it('of two concurrent writes with the same If-Match, one wins and the other gets 412', async () => {
    const c = await inIntake()
    const [assign, withdraw] = await Promise.all([
      act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }, 2),
      act(t.app, member, c.id, 'withdraw', { reason: 'race' }, 2),
    ])
    expect([assign.statusCode, withdraw.statusCode].sort()).toEqual([200, 412])
    const after = await getCase(t.app, member, c.id)
    expect(after.version).toBe(3)
    expect(await events(c.id)).toHaveLength(3)
  })

  it('412 for an If-Match that is not an ETag of the case', async () => {
    const c = await submitCase(t.app, member)
    const res = await send(t.app, 'POST', `/v1/cases/${c.id}/withdraw`, member, { reason: 'x' }, { 'if-match': 'garbage' })
    expectProblem(res, 412, 'version-mismatch')
  })

  it('the ETag follows the version through every transition', async () => {
    const c = await submitCase(t.app, member)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    const etags: string[] = []
    for (const key of [member, region.lead.key]) {
      const res = await send(t.app, 'GET', `/v1/cases/${c.id}`, key)
      etags.push(res.headers.etag as string)
    }
    expect(etags).toEqual(['"2"', '"2"'])
    const assigned = await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }, 2)
    await acceptChecklist(t.database.owner, c.id)
    const decided = await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_grant', note: 'ok' }, 3)
    const closed = await act(t.app, region.hub.key, c.id, 'close', undefined, 4)
    expect([assigned, decided, closed].map((r) => [r.statusCode, r.headers.etag])).toEqual([
      [200, '"3"'],
      [200, '"4"'],
      [200, '"5"'],
    ])
  })
})

describe('GET /v1/cases/{id}/events', () => {
  it('lists every transition in order with actor, from, to, reason, version and time — for the member and the hub', async () => {
    const c = await submitCase(t.app, member)
    await toIntake(t.database.db, c.hubTenantId, c.id)
    expectOk(await act(t.app, region.specialist.key, c.id, 'assign', { staffId: region.specialist.id }))
    expectOk(await act(t.app, region.specialist.key, c.id, 'request-information', { message: 'need the passport', documentKinds: ['passport'] }))
    expectOk(await act(t.app, member, c.id, 'withdraw', { reason: 'changed plans' }))
    expectOk(await act(t.app, region.lead.key, c.id, 'close'))
    const timeline = await events(c.id)
    expect(timeline.map((e) => [e.action, e.actor.kind, e.from, e.to, e.reason, e.version])).toEqual([
      ['submit', 'member', null, 'submitted', null, 1],
      ['route', 'system', 'submitted', 'intake', 'intake checks passed', 2],
      ['assign', 'hub', 'intake', 'in_review', null, 3],
      ['request_information', 'hub', 'in_review', 'awaiting_information', 'need the passport', 4],
      ['withdraw', 'member', 'awaiting_information', 'withdrawn', 'changed plans', 5],
      ['close', 'hub', 'withdrawn', 'closed', null, 6],
    ])
    const keys = expectOk<{ items: Array<{ id: string }> }>(await send(t.app, 'GET', `/v1/tenants/${region.members[0].id}/api-keys`, adminKey)).items
    expect(keys.map((k) => k.id)).toContain(timeline[0]!.actor.id)
    expect(timeline[4]!.actor.id).toBe(timeline[0]!.actor.id)
    expect(timeline[2]!.actor.id).toBe(region.specialist.id)
    expect(timeline[5]!.actor.id).toBe(region.lead.id)
    const times = timeline.map((e) => Date.parse(e.at))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(await events(c.id, region.lead.key)).toEqual(timeline)
    expect((await getCase(t.app, member, c.id)).version).toBe(6)
  })

  it('keeps the due date counted in working days from submission', async () => {
    const c = await inReview()
    expect(c.dueDate).toBe(workingDaysAfter(dutchDate(), 40))
  })
})
