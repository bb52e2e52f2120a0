// Issue 15, the legal course of a dossier over HTTP: outcomes per case type, the Royal Decree and its
// refusals, `awaiting_ceremony`, assignment during intake, live clocks, the clock filters, the
// daily lapse job and the fee seam for the settlement feature.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordCeremonyInvitation, recordFeePaid } from '../../api/cases/clocks.js'
import { withTenantOf } from '../../api/db/database.js'
import { addDays, addWeeks, addYears } from '../../api/domain/calendar.js'
import { atwExtend } from '../../api/domain/atw.js'
import { dutchDate } from '../../api/time.js'
import { lapseExpiredDecrees } from '../../workers/lapse.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { acceptChecklist, act, getCase, send, submitCase, toIntake, type CaseEventJson, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem, newStaff } from '../helpers/tenancy-builders.js'

type CaseType = 'naturalisation' | 'option' | 'first_registration' | 'ipr_assessment'
type Clock = CaseJson['clocks'][number]

let t: TestApp
let region: RegionFixture
let other: RegionFixture
let member: string
const today = dutchDate()

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
  other = await newRegion(t.database.db)
  member = region.members[0].key
})
afterAll(async () => t.close())

const events = async (caseId: string, key = member): Promise<CaseEventJson[]> =>
  expectOk<{ items: CaseEventJson[] }>(await send(t.app, 'GET', `/v1/cases/${caseId}/events`, key)).items
const clock = (c: CaseJson, code: string): Clock => {
  const found = c.clocks.find((k) => k.code === code)
  if (!found) throw new Error(`no clock ${code} on ${c.caseType}: ${c.clocks.map((k) => k.code).join(', ')}`)
  return found
}
/** The specialist (naturalisation, option) or the lead (the other types) works the case. */
const workerOf = (caseType: CaseType) => (caseType === 'naturalisation' || caseType === 'option' ? region.specialist : region.lead)

/** A case in review with an accepted checklist, assigned to the one who will decide it. */
async function ready(caseType: CaseType = 'naturalisation'): Promise<CaseJson> {
  const c = await submitCase(t.app, member, { caseType, ...(caseType === 'ipr_assessment' ? { iprMatter: 'marriage' } : {}) })
  expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
  const worker = workerOf(caseType)
  expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: worker.id }))
  await acceptChecklist(t.database.owner, c.id)
  return getCase(t.app, member, c.id)
}

async function advisedToGrant(): Promise<CaseJson> {
  const c = await ready('naturalisation')
  return expectOk<CaseJson>(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'advise_grant', note: 'voldoet aan de vereisten' }))
}

/** Moves the advice back in time (so a decree date in the past can follow it). */
const adviceDaysAgo = async (caseId: string, days: number) =>
  sql`update cases set decided_at = decided_at - make_interval(days => ${days}) where id = ${caseId}`.execute(t.database.owner)

describe('outcomes per case type', () => {
  it('the catalogue lists the outcomes decide accepts', async () => {
    const types = expectOk<{ items: Array<{ code: string; outcomes: string[]; statutoryClocks: Array<{ code: string; atw: { extends: boolean; basis: string } }> }> }>(
      await send(t.app, 'GET', '/v1/case-types', member),
    ).items
    expect(Object.fromEntries(types.map((ty) => [ty.code, ty.outcomes]))).toEqual({
      naturalisation: ['advise_grant', 'advise_refuse'],
      option: ['grant', 'refuse'],
      first_registration: ['registered', 'refused'],
      ipr_assessment: ['recognised', 'not_recognised'],
    })
    const brp = types.find((ty) => ty.code === 'first_registration')!.statutoryClocks.find((c) => c.code === 'brp_overview')!
    expect(brp.atw).toMatchObject({ extends: true })
  })

  it.each([
    ['naturalisation', 'advise_grant', 'decided'],
    ['naturalisation', 'advise_refuse', 'decided'],
    ['option', 'grant', 'awaiting_ceremony'],
    ['option', 'refuse', 'decided'],
    ['first_registration', 'registered', 'decided'],
    ['first_registration', 'refused', 'decided'],
    ['ipr_assessment', 'recognised', 'decided'],
    ['ipr_assessment', 'not_recognised', 'decided'],
  ] as const)('%s decided %s → %s, recording who and when, shown in the timeline', async (caseType, outcome, status) => {
    const c = await ready(caseType)
    const worker = workerOf(caseType)
    const decided = expectOk<CaseJson>(await act(t.app, worker.key, c.id, 'decide', { outcome, note: 'beoordeeld' }))
    expect(decided.status).toBe(status)
    expect(decided.decision).toMatchObject({ outcome, note: 'beoordeeld', decidedBy: worker.id })
    expect(Date.parse(decided.decision!.decidedAt!)).toBeGreaterThan(Date.now() - 60_000)
    const last = (await events(c.id)).at(-1)!
    expect(last).toMatchObject({ action: 'decide', from: 'in_review', to: status, actor: { kind: 'hub', id: worker.id } })
    expect(last.reason).toContain(outcome)
  })

  it.each([
    ['naturalisation', 'granted'],
    ['naturalisation', 'grant'],
    ['option', 'advise_grant'],
    ['first_registration', 'recognised'],
    ['ipr_assessment', 'registered'],
    ['option', 'maybe'],
  ] as const)('%s with outcome %s → 400 naming outcome, and the case stays in review', async (caseType, outcome) => {
    const c = await ready(caseType)
    const p = expectProblem(await act(t.app, workerOf(caseType).key, c.id, 'decide', { outcome, note: 'x' }), 400, 'invalid-request')
    expect((p.invalidParams as Array<{ name: string }>).map((i) => i.name)).toEqual(['outcome'])
    expect((await getCase(t.app, member, c.id)).status).toBe('in_review')
  })

  it('the note stays required', async () => {
    const c = await ready('option')
    expectProblem(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'grant' }), 400, 'invalid-request')
  })
})

describe('POST /v1/cases/{id}/royal-decree', () => {
  it('granted: awaiting_ceremony, the ceremony clocks start from decreeDate, ind_decision stops', async () => {
    const c = await advisedToGrant()
    await adviceDaysAgo(c.id, 30)
    const decreeDate = addDays(today, -10)
    const res = await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate, decreeNumber: 'KB 2026/77' })
    const after = expectOk<CaseJson>(res)
    expect(res.headers.etag).toBe(`"${after.version}"`)
    expect(after.status).toBe('awaiting_ceremony')
    expect(after.royalDecree).toMatchObject({ decision: 'granted', decreeDate, decreeNumber: 'KB 2026/77' })
    expect(clock(after, 'ceremony_invitation')).toMatchObject({ startedOn: decreeDate, dueOn: addWeeks(decreeDate, 6), status: 'running' })
    expect(clock(after, 'royal_decree_lapse')).toMatchObject({ startedOn: decreeDate, dueOn: addYears(decreeDate, 1), status: 'running' })
    expect(clock(after, 'ceremony_handover').status).toBe('not_started')
    expect((await events(c.id)).at(-1)).toMatchObject({ action: 'royal_decree_granted', from: 'decided', to: 'awaiting_ceremony', actor: { kind: 'hub', id: region.specialist.id } })
    // awaiting the ceremony: no withdrawal, no close by hand, no second decree
    expectProblem(await act(t.app, member, c.id, 'withdraw', { reason: 'x' }), 409, 'case-closed')
    expectProblem(await act(t.app, region.hub.key, c.id, 'close'), 409, 'invalid-transition')
    expectProblem(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate }), 409, 'invalid-transition')
    const listed = expectOk<{ items: CaseJson[] }>(await send(t.app, 'GET', '/v1/cases?status=awaiting_ceremony', region.lead.key)).items
    expect(listed.map((x) => x.id)).toContain(c.id)
  })

  it('refused: the case stays decided for the hub to close; a lead may record it', async () => {
    const c = await advisedToGrant()
    const after = expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'royal-decree', { decision: 'refused', decreeDate: today }))
    expect(after.status).toBe('decided')
    expect(after.royalDecree).toMatchObject({ decision: 'refused', decreeDate: today, decreeNumber: null })
    expect(clock(after, 'ceremony_invitation').status).toBe('not_started')
    expectProblem(await act(t.app, region.lead.key, c.id, 'royal-decree', { decision: 'granted', decreeDate: today }), 409, 'invalid-transition')
    expect(expectOk<CaseJson>(await act(t.app, region.hub.key, c.id, 'close')).status).toBe('closed')
  })

  it('409 invalid-transition unless a naturalisation decided with advise_grant', async () => {
    const body = { decision: 'granted', decreeDate: today }
    const inReview = await ready('naturalisation')
    expectProblem(await act(t.app, region.specialist.key, inReview.id, 'royal-decree', body), 409, 'invalid-transition')
    const advisedRefuse = await ready('naturalisation')
    expectOk(await act(t.app, region.specialist.key, advisedRefuse.id, 'decide', { outcome: 'advise_refuse', note: 'nee' }))
    expectProblem(await act(t.app, region.specialist.key, advisedRefuse.id, 'royal-decree', body), 409, 'invalid-transition')
    const option = await ready('option')
    expectOk(await act(t.app, region.specialist.key, option.id, 'decide', { outcome: 'refuse', note: 'nee' }))
    expectProblem(await act(t.app, region.specialist.key, option.id, 'royal-decree', body), 409, 'invalid-transition')
    expectOk(await act(t.app, region.hub.key, advisedRefuse.id, 'close'))
    expectProblem(await act(t.app, region.specialist.key, advisedRefuse.id, 'royal-decree', body), 409, 'invalid-transition')
  })

  it('400 for a decreeDate in the future or before the advice, naming decreeDate', async () => {
    const c = await advisedToGrant()
    for (const decreeDate of [addDays(today, 1), addDays(today, -1)]) {
      const p = expectProblem(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate }), 400, 'invalid-request')
      expect((p.invalidParams as Array<{ name: string }>).map((i) => i.name)).toEqual(['decreeDate'])
    }
    expectProblem(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'maybe', decreeDate: today }), 400, 'invalid-request')
    expectProblem(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate: today, status: 'closed' }), 400, 'invalid-request')
    expect((await getCase(t.app, member, c.id)).status).toBe('decided')
  })

  it('403 for the member, a hub client and a specialist not assigned; 404 for another tenant; 412 on a stale If-Match', async () => {
    const c = await advisedToGrant()
    const body = { decision: 'granted', decreeDate: today }
    expect((await act(t.app, member, c.id, 'royal-decree', body)).statusCode).toBe(403)
    expect((await act(t.app, region.hub.key, c.id, 'royal-decree', body)).statusCode).toBe(403)
    const colleague = await newStaff(t.database.db, region.hub.id)
    expectProblem(await act(t.app, colleague.key, c.id, 'royal-decree', body), 403, 'not-assigned')
    const stranger = await newRegion(t.database.db)
    expectProblem(await act(t.app, stranger.specialist.key, c.id, 'royal-decree', body), 404, 'not-found')
    expectProblem(await act(t.app, other.members[0].key, c.id, 'royal-decree', body), 404, 'not-found')
    expectProblem(await act(t.app, region.specialist.key, c.id, 'royal-decree', body, c.version - 1), 412, 'version-mismatch')
    expect(expectOk<CaseJson>(await act(t.app, region.specialist.key, c.id, 'royal-decree', body, c.version)).status).toBe('awaiting_ceremony')
  })
})

describe('awaiting_ceremony for an option, and the ceremony', () => {
  it('an option grant awaits the hand-over; its clocks run from the grant; attending closes it', async () => {
    const c = await ready('option')
    const granted = expectOk<CaseJson>(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'grant', note: 'bevestigd' }))
    expect(granted.status).toBe('awaiting_ceremony')
    expect(clock(granted, 'option_decision')).toMatchObject({ status: 'met', stoppedOn: today })
    expect(clock(granted, 'option_confirmation_handover')).toMatchObject({ startedOn: today, dueOn: addWeeks(today, 9), status: 'running' })
    expect(clock(granted, 'option_confirmation_lapse')).toMatchObject({ startedOn: today, dueOn: addYears(today, 1), status: 'running' })
  })

  it('the invitation seam starts ceremony_handover; ceremony_attended (the appointments feature) closes the case', async () => {
    const c = await advisedToGrant()
    expectOk(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate: today }))
    await withTenantOf(t.database.db, c.hubTenantId, (trx) => recordCeremonyInvitation(trx, c.id, today))
    const invited = await getCase(t.app, member, c.id)
    expect(clock(invited, 'ceremony_invitation')).toMatchObject({ status: 'met', stoppedOn: today })
    expect(clock(invited, 'ceremony_handover')).toMatchObject({ startedOn: today, dueOn: addWeeks(today, 6), status: 'running' })
    const { applyTransition } = await import('../../api/cases/lifecycle.js')
    const { lockCase } = await import('../../api/cases/cases.repository.js')
    await withTenantOf(t.database.db, c.hubTenantId, async (trx) =>
      applyTransition(trx, (await lockCase(trx, c.id))!, { action: 'ceremony_attended', actor: { kind: 'system', id: 'appointments' }, reason: 'declaration made' }),
    )
    const closed = await getCase(t.app, member, c.id)
    expect(closed.status).toBe('closed')
    expect(closed.clocks.map((k) => [k.code, k.status])).toEqual([
      ['fee_payment', 'met'],
      ['ind_decision', 'not_started'],
      ['ceremony_invitation', 'met'],
      ['ceremony_handover', 'met'],
      ['royal_decree_lapse', 'met'],
    ])
  })
})

describe('the daily lapse job', () => {
  const decreeAgo = (caseId: string, date: string) =>
    sql`update cases set royal_decree_date = ${date}::date, decided_at = ${date}::date - interval '1 day' where id = ${caseId}`.execute(t.database.owner)

  it('closes a decree not handed over within the year, with an event, once; a decree on its last day stays', async () => {
    const lapsing = await advisedToGrant()
    const lastDay = await advisedToGrant()
    for (const c of [lapsing, lastDay]) expectOk(await act(t.app, region.specialist.key, c.id, 'royal-decree', { decision: 'granted', decreeDate: today }))
    await decreeAgo(lapsing.id, addYears(addDays(today, -1), -1)) // its last day was yesterday
    await decreeAgo(lastDay.id, addYears(today, -1)) // its last day is today
    expect(await lapseExpiredDecrees(t.database.db, today)).toBeGreaterThanOrEqual(1)
    const closed = await getCase(t.app, member, lapsing.id)
    expect(closed.status).toBe('closed')
    expect(clock(closed, 'royal_decree_lapse')).toMatchObject({ status: 'overdue', stoppedOn: today })
    const last = (await events(lapsing.id)).at(-1)!
    expect(last).toMatchObject({ action: 'decree_lapsed', from: 'awaiting_ceremony', to: 'closed', actor: { kind: 'system', id: 'lapse-job' } })
    expect(last.reason).toMatch(/^decree_lapsed: .*BVVN art\. 60b\(11\)/)
    expect((await getCase(t.app, member, lastDay.id)).status).toBe('awaiting_ceremony')
    // a second run the same day changes nothing
    const before = (await events(lapsing.id)).length
    await lapseExpiredDecrees(t.database.db, today)
    expect(await events(lapsing.id)).toHaveLength(before)
    expect((await getCase(t.app, member, lastDay.id)).status).toBe('awaiting_ceremony')
    // the next day the second one lapses too
    await lapseExpiredDecrees(t.database.db, addDays(today, 1))
    expect((await getCase(t.app, member, lastDay.id)).status).toBe('closed')
  })

  it('closes an option confirmation not handed over within the year', async () => {
    const c = await ready('option')
    expectOk(await act(t.app, region.specialist.key, c.id, 'decide', { outcome: 'grant', note: 'ok' }))
    await sql`update cases set decided_at = now() - interval '367 days' where id = ${c.id}`.execute(t.database.owner)
    await lapseExpiredDecrees(t.database.db, today)
    expect((await getCase(t.app, member, c.id)).status).toBe('closed')
    expect((await events(c.id)).at(-1)!.reason).toMatch(/option confirmation/)
  })

  it('runs as the maintenance job of the registry', async () => {
    const { handlers } = await import('../../workers/handlers.js')
    expect(typeof handlers.maintenance['lapse-expired-decrees']).toBe('function')
  })
})

describe('assign from the start', () => {
  it('a lead may assign a submitted case; it stays submitted, and the intake checks send it straight to review', async () => {
    const c = await submitCase(t.app, member)
    const assigned = expectOk<CaseJson>(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }))
    expect(assigned).toMatchObject({ status: 'submitted', assignedStaffId: region.specialist.id })
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
    expect((await getCase(t.app, member, c.id)).status).toBe('in_review')
    expect((await events(c.id)).map((e) => [e.action, e.from, e.to])).toEqual([
      ['submit', null, 'submitted'],
      ['assign', 'submitted', 'submitted'],
      ['route', 'submitted', 'in_review'],
    ])
  })

  it('a specialist assigns himself during intake; the skill check still applies', async () => {
    const c = await submitCase(t.app, member, { caseType: 'first_registration', subject: { givenNames: 'A', surname: 'B', dateOfBirth: '1990-01-01' } })
    expectProblem(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.specialist.id }), 422, 'staff-lacks-skill')
    expectOk(await act(t.app, region.lead.key, c.id, 'assign', { staffId: region.lead.id }))
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
    expect((await getCase(t.app, member, c.id)).status).toBe('in_review')
  })

  it('the intake checks still reject an assigned case whose member is suspended', async () => {
    const r = await newRegion(t.database.db)
    const c = await submitCase(t.app, r.members[0].key)
    expectOk(await act(t.app, r.lead.key, c.id, 'assign', { staffId: r.specialist.id }))
    await sql`update tenants set status = 'suspended' where id = ${r.members[0].id}`.execute(t.database.owner)
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('rejected')
    expect((await getCase(t.app, r.hub.key, c.id)).status).toBe('rejected_at_intake')
  })
})

describe('clocks and the clock filters', () => {
  /** A fresh region's naturalisation submitted `daysAgo` days ago, moved to intake (which refreshes its clocks). */
  async function submittedAgo(r: RegionFixture, daysAgo: number): Promise<CaseJson> {
    const c = await submitCase(t.app, r.members[0].key)
    await sql`update cases set created_at = created_at - make_interval(days => ${daysAgo}) where id = ${c.id}`.execute(t.database.owner)
    expect(await toIntake(t.database.db, c.hubTenantId, c.id)).toBe('routed')
    return getCase(t.app, r.members[0].key, c.id)
  }

  it('every case carries its clocks: fee_payment runs from submission, ind_decision waits for the fee', async () => {
    const c = await submitCase(t.app, member)
    expect(c.clocks.map((k) => k.code)).toEqual(['fee_payment', 'ind_decision', 'ceremony_invitation', 'ceremony_handover', 'royal_decree_lapse'])
    expect(clock(c, 'fee_payment')).toMatchObject({ startedOn: today, dueOn: atwExtend(addWeeks(today, 6)), status: 'running', stoppedOn: null })
    expect(clock(c, 'fee_payment').source).toMatch(/BOEN 2002.*Atw/)
    expect(clock(c, 'ind_decision')).toMatchObject({ startedOn: null, dueOn: null, status: 'not_started' })
    const list = expectOk<{ items: CaseJson[] }>(await send(t.app, 'GET', '/v1/cases?limit=5', member)).items
    expect(list.find((x) => x.id === c.id)!.clocks).toEqual(c.clocks)
  })

  it('recordFeePaid (the settlement seam) stops fee_payment and starts ind_decision; the same day again is a no-op, another 409', async () => {
    const c = await submitCase(t.app, member)
    const paidOn = today
    await withTenantOf(t.database.db, c.hubTenantId, (trx) => recordFeePaid(trx, c.id, paidOn))
    await withTenantOf(t.database.db, c.hubTenantId, (trx) => recordFeePaid(trx, c.id, paidOn))
    await expect(withTenantOf(t.database.db, c.hubTenantId, (trx) => recordFeePaid(trx, c.id, addDays(paidOn, -1)))).rejects.toMatchObject({
      code: 'fee-already-recorded',
    })
    const after = await getCase(t.app, member, c.id)
    expect(clock(after, 'fee_payment')).toMatchObject({ status: 'met', stoppedOn: paidOn })
    expect(clock(after, 'ind_decision')).toMatchObject({ startedOn: paidOn, dueOn: addYears(paidOn, 1), status: 'running' })
  })

  it('?clock=overdue and ?clock=due_within_10_working_days find the right cases, for the hub and the member, and no other tenant’s', async () => {
    const r = await newRegion(t.database.db)
    const overdue = await submittedAgo(r, 60)
    const soon = await submittedAgo(r, 38)
    const fresh = await submittedAgo(r, 0)
    const paid = await submittedAgo(r, 60)
    await withTenantOf(t.database.db, paid.hubTenantId, (trx) => recordFeePaid(trx, paid.id, addDays(today, -50)))
    expect(clock(overdue, 'fee_payment').status).toBe('overdue')
    expect(clock(soon, 'fee_payment').status).toBe('running')

    const ids = async (key: string, filter: string) =>
      expectOk<{ items: CaseJson[] }>(await send(t.app, 'GET', `/v1/cases?clock=${filter}`, key)).items.map((c) => c.id)
    expect(await ids(r.lead.key, 'overdue')).toEqual([overdue.id])
    expect(await ids(r.lead.key, 'due_within_10_working_days')).toEqual([soon.id])
    expect(await ids(r.members[0].key, 'overdue')).toEqual([overdue.id])
    expect(await ids(r.members[1].key, 'overdue')).toEqual([])
    expect(await ids(region.lead.key, 'overdue')).not.toContain(overdue.id)
    expect(await ids(r.lead.key, 'overdue')).not.toContain(fresh.id)
    // combined with another filter, and paged
    expect(expectOk<{ items: CaseJson[] }>(await send(t.app, 'GET', '/v1/cases?clock=overdue&caseType=option', r.lead.key)).items).toEqual([])
    expect(expectOk<{ items: CaseJson[] }>(await send(t.app, 'GET', '/v1/cases?clock=overdue&status=intake&limit=1', r.hub.key)).items).toHaveLength(1)
    // another tenant's case is a 404, exactly as a missing one
    expectProblem(await send(t.app, 'GET', `/v1/cases/${overdue.id}`, region.lead.key), 404, 'not-found')
    expectProblem(await send(t.app, 'GET', `/v1/cases/${overdue.id}`, other.members[0].key), 404, 'not-found')
  })

  it('400 for an unknown clock filter', async () => {
    expectProblem(await send(t.app, 'GET', '/v1/cases?clock=late', region.lead.key), 400, 'invalid-request')
  })

  it('the filter is an index range on (tenant, clock_due_on)', async () => {
    const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where tablename = 'cases' and indexname in ('cases_hub_clock', 'cases_member_clock')`.execute(
      t.database.owner,
    )
    expect(rows.map((r) => r.indexdef).sort()).toEqual([
      expect.stringMatching(/\(hub_tenant_id, clock_due_on\) WHERE \(clock_due_on IS NOT NULL\)/),
      expect.stringMatching(/\(member_tenant_id, clock_due_on\) WHERE \(clock_due_on IS NOT NULL\)/),
    ])
  })
})

describe('a naturalisation from submission to awaiting_ceremony, clocks on every step', () => {
  it('shows the right clocks after each step', async () => {
    const submitted = await submitCase(t.app, member)
    const steps: Array<[string, CaseJson]> = [['submitted', submitted]]
    await toIntake(t.database.db, submitted.hubTenantId, submitted.id)
    steps.push(['intake', await getCase(t.app, member, submitted.id)])
    expectOk(await act(t.app, region.lead.key, submitted.id, 'assign', { staffId: region.specialist.id }))
    await withTenantOf(t.database.db, submitted.hubTenantId, (trx) => recordFeePaid(trx, submitted.id, today))
    steps.push(['fee paid', await getCase(t.app, member, submitted.id)])
    await acceptChecklist(t.database.owner, submitted.id)
    steps.push(['advised', expectOk<CaseJson>(await act(t.app, region.specialist.key, submitted.id, 'decide', { outcome: 'advise_grant', note: 'ok' }))])
    steps.push(['decree', expectOk<CaseJson>(await act(t.app, region.specialist.key, submitted.id, 'royal-decree', { decision: 'granted', decreeDate: today }))])
    const status = (c: CaseJson) => Object.fromEntries(c.clocks.map((k) => [k.code, k.status]))
    expect(steps.map(([name, c]) => [name, c.status, status(c)])).toEqual([
      ['submitted', 'submitted', { fee_payment: 'running', ind_decision: 'not_started', ceremony_invitation: 'not_started', ceremony_handover: 'not_started', royal_decree_lapse: 'not_started' }],
      ['intake', 'intake', { fee_payment: 'running', ind_decision: 'not_started', ceremony_invitation: 'not_started', ceremony_handover: 'not_started', royal_decree_lapse: 'not_started' }],
      ['fee paid', 'in_review', { fee_payment: 'met', ind_decision: 'running', ceremony_invitation: 'not_started', ceremony_handover: 'not_started', royal_decree_lapse: 'not_started' }],
      ['advised', 'decided', { fee_payment: 'met', ind_decision: 'running', ceremony_invitation: 'not_started', ceremony_handover: 'not_started', royal_decree_lapse: 'not_started' }],
      ['decree', 'awaiting_ceremony', { fee_payment: 'met', ind_decision: 'met', ceremony_invitation: 'running', ceremony_handover: 'not_started', royal_decree_lapse: 'running' }],
    ])
    const { rows } = await sql<{ clock_due_on: string }>`select clock_due_on::text from cases where id = ${submitted.id}`.execute(t.database.owner)
    expect(rows[0]!.clock_due_on).toBe(addWeeks(today, 6))
  })
})
