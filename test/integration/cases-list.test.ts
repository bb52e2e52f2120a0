// Issue 13, the list's own statement: `GET /v1/cases` takes the listed columns, the checklist and
// the clock events' dates in one query (times as ISO text, Dutch dates in SQL). Each item must be
// exactly the case as `GET /v1/cases/{id}` shows it, less the subject and the note — whatever the
// case's facts: decisions, decrees, events, checklist states, times with microseconds, and moments
// whose Dutch date is not their UTC date.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { act, getCase, send, submitCase, toIntake, type CaseJson } from '../helpers/case-builders.js'
import { expectOk } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

type Summary = Omit<CaseJson, 'subject' | 'note'>
const summaryOf = ({ subject: _subject, note: _note, ...rest }: CaseJson): Summary => rest

/** An event behind the application's back (the timeline is append-only for it), as the owner. */
const addEvent = (caseId: string, action: string, version: number, at: string) =>
  sql`insert into case_events (case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, version, created_at)
      select id, hub_tenant_id, member_tenant_id, 'hub', 'test', ${action}, status, status, ${version}, ${at}::timestamptz from cases where id = ${caseId}`.execute(
    t.database.owner,
  )

describe('GET /v1/cases items', () => {
  it('are the cases as GET /v1/cases/{id} shows them, without subject and note, for every kind of fact', async () => {
    const member = region.members[0].key
    const plain = await submitCase(t.app, member)
    const option = await submitCase(t.app, member, { caseType: 'option', externalReference: 'zaak-1', note: 'a note' })
    const decreed = await submitCase(t.app, member)
    const ended = await submitCase(t.app, member, { caseType: 'first_registration' })
    const ipr = await submitCase(t.app, member, { caseType: 'ipr_assessment', iprMatter: 'marriage' })
    const owner = t.database.owner
    // A decided option near midnight: 23:30 UTC on 31 March is 1 April in Amsterdam.
    await sql`update cases set status = 'awaiting_ceremony', decision_outcome = 'grant', decision_note = 'ok', decided_by = 'someone',
              decided_at = '2026-03-31T23:30:00.123Z', assigned_staff_id = ${region.specialist.id}, fee_paid_on = '2026-03-01',
              updated_at = '2026-04-01T10:00:00.123456Z'
              where id = ${option.id}`.execute(owner)
    await sql`update case_checklist_items set status = 'accepted' where case_id = ${option.id}`.execute(owner)
    await addEvent(option.id, 'ceremony_attended', 50, '2026-04-02T22:59:59.999Z')
    await addEvent(option.id, 'ceremony_attended', 51, '2026-04-01T08:00:00Z')
    // A naturalisation with its Royal Decree granted, invitation sent, decree lapsed.
    await sql`update cases set status = 'awaiting_ceremony', decision_outcome = 'advise_grant', decision_note = 'ja', decided_by = 'x',
              decided_at = '2025-12-31T23:00:00Z', fee_paid_on = '2025-11-01', royal_decree_decision = 'granted', royal_decree_date = '2026-01-15',
              royal_decree_number = 'KB-7', royal_decree_recorded_at = '2026-01-16T12:34:56.789Z', ceremony_invited_on = '2026-01-20'
              where id = ${decreed.id}`.execute(owner)
    await sql`update case_checklist_items set status = 'rejected' where case_id = ${decreed.id} and document_kind = 'passport'`.execute(owner)
    await addEvent(decreed.id, 'decree_lapsed', 60, '2027-01-15T23:30:00Z')
    // Ended three ways: the first of withdraw / reject_at_intake / close counts.
    await sql`update cases set status = 'closed', decision_outcome = 'registered', decided_at = '2026-02-01T12:00:00Z' where id = ${ended.id}`.execute(owner)
    await addEvent(ended.id, 'close', 70, '2026-02-10T12:00:00Z')
    await addEvent(ended.id, 'withdraw', 71, '2026-02-05T23:15:00Z')
    await addEvent(ended.id, 'reject_at_intake', 72, '2026-02-07T12:00:00Z')
    // Another case's events never count for this one.
    await addEvent(ipr.id, 'submit_again', 80, '2026-01-01T00:00:00Z')

    const listed = expectOk<{ items: Summary[]; nextCursor: string | null }>(await send(t.app, 'GET', '/v1/cases?limit=100', region.specialist.key))
    const ids = [ipr, ended, decreed, option, plain].map((c) => c.id)
    expect(listed.items.map((i) => i.id)).toEqual(ids)
    for (const item of listed.items) {
      const detail = summaryOf(await getCase(t.app, region.specialist.key, item.id))
      expect(item).toEqual(detail)
      // The same keys in the same order, so the JSON is the same text too.
      expect(JSON.stringify(item)).toBe(JSON.stringify(detail))
    }
    // The facts took effect (the list did not merely agree with a detail that ignores them).
    const byId = new Map(listed.items.map((i) => [i.id, i]))
    expect(byId.get(option.id)!.decision).toEqual({ outcome: 'grant', note: 'ok', decidedAt: '2026-03-31T23:30:00.123Z', decidedBy: 'someone' })
    expect(byId.get(option.id)!.updatedAt).toBe('2026-04-01T10:00:00.123Z')
    expect(byId.get(option.id)!.checklist.every((i) => i.status === 'accepted')).toBe(true)
    expect(byId.get(decreed.id)!.royalDecree).toEqual({ decision: 'granted', decreeDate: '2026-01-15', decreeNumber: 'KB-7', recordedAt: '2026-01-16T12:34:56.789Z' })
    expect(byId.get(decreed.id)!.checklist.find((i) => i.documentKind === 'passport')?.status).toBe('rejected')
    const stopped = (id: string) => byId.get(id)!.clocks.filter((k) => k.stoppedOn !== null).map((k) => `${k.code}:${k.stoppedOn}`)
    expect(stopped(option.id)).toContain('option_confirmation_handover:2026-04-01')
    expect(stopped(ended.id).some((s) => s.endsWith(':2026-02-06'))).toBe(true)
  })

  it('stay the detail as the application itself changes checklist and timeline (the summary on the case row follows)', async () => {
    const fresh = await newRegion(t.database.db)
    const member = fresh.members[0].key
    const asked = await submitCase(t.app, member)
    const withdrawn = await submitCase(t.app, member, { caseType: 'option' })
    // Intake (a worker's transition), assignment, a request for a new and an existing document kind.
    expect(await toIntake(t.database.db, asked.hubTenantId, asked.id)).toBe('routed')
    expectOk(await act(t.app, fresh.lead.key, asked.id, 'assign', { staffId: fresh.specialist.id }))
    await sql`update case_checklist_items set status = 'accepted' where case_id = ${asked.id} and document_kind = 'passport'`.execute(t.database.owner)
    expectOk(await act(t.app, fresh.specialist.key, asked.id, 'request-information', { message: 'more', documentKinds: ['marriage_certificate', 'passport'] }))
    // Withdrawn by the member: the first end of the case stops its clocks.
    expectOk(await act(t.app, member, withdrawn.id, 'withdraw', { reason: 'moved away' }))

    const listed = expectOk<{ items: Summary[] }>(await send(t.app, 'GET', '/v1/cases?limit=100', fresh.lead.key)).items
    expect(listed.map((i) => i.id)).toEqual([withdrawn.id, asked.id])
    for (const item of listed) expect(JSON.stringify(item)).toBe(JSON.stringify(summaryOf(await getCase(t.app, fresh.lead.key, item.id))))
    const askedItem = listed.find((i) => i.id === asked.id)!
    expect(askedItem.checklist).toContainEqual({ documentKind: 'marriage_certificate', status: 'missing' })
    expect(askedItem.checklist).toContainEqual({ documentKind: 'passport', status: 'missing' })
    expect(listed.find((i) => i.id === withdrawn.id)!.clocks.some((k) => k.stoppedOn !== null)).toBe(true)
  })

  it('page with the same cursors as before: every case once, in order, the last page without a cursor', async () => {
    const fresh = await newRegion(t.database.db)
    const made: string[] = []
    for (let i = 0; i < 5; i += 1) made.unshift((await submitCase(t.app, fresh.members[1].key)).id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/v1/cases?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = expectOk<{ items: Summary[]; nextCursor: string | null }>(await send(t.app, 'GET', url, fresh.lead.key))
      seen.push(...page.items.map((i) => i.id))
      cursor = page.nextCursor
      if (cursor) {
        const last = page.items[page.items.length - 1]!
        expect(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).toEqual({ c: last.submittedAt, i: last.id })
      }
    } while (cursor)
    expect(seen).toEqual(made)
  })
})
