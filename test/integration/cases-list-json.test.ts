// Issue 13: `GET /v1/cases` sends the page as PostgreSQL wrote it (list_cases_json, migration 0025),
// past the schema serialiser. The body must stay the very text the view and the serialiser wrote:
// each item is the case detail less subject and note, byte for byte — text with quotes, backslashes,
// control characters and non-ASCII included — the keys in the contract's order, no spaces, `null`
// for an absent value; the same headers as a serialised reply; the cursor as before.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { getCase, send, submitCase, type CaseJson } from '../helpers/case-builders.js'
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

/** Text a person may type, with every character JSON escapes and some it does not. */
const AWKWARD = 'a "quoted" \\ back\\slash\n\r\t\b\f \u0001\u001f\u007f é ß € 中文 😀 </script> \u2028\u2029 / end'

describe('GET /v1/cases as JSON text', () => {
  it('is, byte for byte, the JSON of the details less subject and note, whatever text the fields hold', async () => {
    const fresh = await newRegion(t.database.db)
    const member = fresh.members[0].key
    const awkward = await submitCase(t.app, member, { externalReference: AWKWARD })
    const decided = await submitCase(t.app, member, { caseType: 'option', externalReference: 'x' })
    const decreed = await submitCase(t.app, member)
    const owner = t.database.owner
    await sql`update cases set status = 'decided', decision_outcome = 'grant', decision_note = ${AWKWARD}, decided_by = ${`staff ${AWKWARD}`},
              decided_at = '2026-06-30T22:15:00.5Z', assigned_staff_id = ${fresh.specialist.id}
              where id = ${decided.id}`.execute(owner)
    await sql`update cases set status = 'awaiting_ceremony', decision_outcome = 'advise_grant', decision_note = null, decided_by = null,
              decided_at = '2026-01-01T00:00:00Z', fee_paid_on = '2025-12-01', royal_decree_decision = 'granted', royal_decree_date = '2026-02-02',
              royal_decree_number = ${`KB ${AWKWARD}`}, royal_decree_recorded_at = null
              where id = ${decreed.id}`.execute(owner)

    const res = await send(t.app, 'GET', '/v1/cases?limit=10', fresh.lead.key)
    expect(res.statusCode).toBe(200)
    const details = []
    for (const c of [decreed, decided, awkward]) details.push(summaryOf(await getCase(t.app, fresh.lead.key, c.id)))
    // The detail is serialised by the schema serialiser: its keys, order and escapes are the contract's.
    expect(res.body).toBe(JSON.stringify({ items: details, nextCursor: null }))
    // The awkward text came through (the comparison above did not pass on two empty fields).
    const items = res.json<{ items: Summary[] }>().items
    expect(items.find((i) => i.id === awkward.id)!.externalReference).toBe(AWKWARD)
    expect(items.find((i) => i.id === decided.id)!.decision).toEqual({ outcome: 'grant', note: AWKWARD, decidedAt: '2026-06-30T22:15:00.500Z', decidedBy: `staff ${AWKWARD}` })
    expect(items.find((i) => i.id === decreed.id)!.royalDecree).toEqual({ decision: 'granted', decreeDate: '2026-02-02', decreeNumber: `KB ${AWKWARD}`, recordedAt: null })
    expect(items.find((i) => i.id === decreed.id)!.decision).toEqual({ outcome: 'advise_grant', note: null, decidedAt: '2026-01-01T00:00:00.000Z', decidedBy: null })
  })

  it('has the headers of a serialised JSON reply: content type, length in bytes, no caching', async () => {
    const fresh = await newRegion(t.database.db)
    const made = await submitCase(t.app, fresh.members[0].key, { externalReference: 'ünïcödé €' })
    const list = await send(t.app, 'GET', '/v1/cases', fresh.lead.key)
    const detail = await send(t.app, 'GET', `/v1/cases/${made.id}`, fresh.lead.key)
    expect(list.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(list.headers['content-type']).toBe(detail.headers['content-type'])
    expect(Number(list.headers['content-length'])).toBe(Buffer.byteLength(list.body, 'utf8'))
    expect(list.headers['cache-control']).toBe('no-store')
    // The same header names as the detail's, which alone has an ETag (a list has no version).
    const names = (h: Record<string, unknown>) => Object.keys(h).filter((n) => n !== 'etag' && n !== 'date').sort()
    expect(names(list.headers)).toEqual(names(detail.headers))
  })

  it('pages as before: limit items and a cursor to the next, the last page exactly full without one, an empty page', async () => {
    const fresh = await newRegion(t.database.db)
    const made: string[] = []
    for (let i = 0; i < 4; i += 1) made.unshift((await submitCase(t.app, fresh.members[0].key)).id)
    const first = await send(t.app, 'GET', '/v1/cases?limit=2', fresh.lead.key)
    const page = first.json<{ items: Summary[]; nextCursor: string }>()
    expect(page.items.map((i) => i.id)).toEqual(made.slice(0, 2))
    const last = page.items[1]!
    expect(page.nextCursor).toBe(Buffer.from(JSON.stringify({ c: last.submittedAt, i: last.id }), 'utf8').toString('base64url'))
    expect(first.body.endsWith(`],"nextCursor":"${page.nextCursor}"}`)).toBe(true)
    // Two left: a full page of two, and no cursor (nothing after it).
    const second = expectOk<{ items: Summary[]; nextCursor: string | null }>(await send(t.app, 'GET', `/v1/cases?limit=2&cursor=${page.nextCursor}`, fresh.lead.key))
    expect(second.items.map((i) => i.id)).toEqual(made.slice(2))
    expect(second.nextCursor).toBeNull()
    // Another member of the region without cases: an empty list.
    const empty = await send(t.app, 'GET', '/v1/cases', fresh.members[1].key)
    expect(empty.body).toBe('{"items":[],"nextCursor":null}')
  })

  it('shows a member its own cases and a hub its members’, never another region’s, through the same text', async () => {
    const other = await newRegion(t.database.db)
    const mine = await submitCase(t.app, region.members[0].key)
    const theirs = await submitCase(t.app, other.members[0].key)
    const hubList = expectOk<{ items: Summary[] }>(await send(t.app, 'GET', '/v1/cases?limit=100', region.lead.key)).items.map((i) => i.id)
    expect(hubList).toContain(mine.id)
    expect(hubList).not.toContain(theirs.id)
    const otherHub = expectOk<{ items: Summary[] }>(await send(t.app, 'GET', '/v1/cases?limit=100', other.lead.key)).items.map((i) => i.id)
    expect(otherHub).toEqual([theirs.id])
    // The other member of the first region sees nothing of the first member's.
    const neighbour = expectOk<{ items: Summary[] }>(await send(t.app, 'GET', '/v1/cases?limit=100', region.members[1].key)).items.map((i) => i.id)
    expect(neighbour).not.toContain(mine.id)
    // A hub filtering on another region's member gets an empty page, not that member's cases.
    const foreign = await send(t.app, 'GET', `/v1/cases?memberTenantId=${other.members[0].id}`, region.lead.key)
    expect(foreign.body).toBe('{"items":[],"nextCursor":null}')
    // No item carries the subject or the note.
    const listed = await send(t.app, 'GET', '/v1/cases?limit=100', region.lead.key)
    for (const item of listed.json<{ items: Array<Record<string, unknown>> }>().items) {
      expect(Object.keys(item)).not.toContain('subject')
      expect(Object.keys(item)).not.toContain('note')
    }
    expect(listed.body).not.toContain(mine.subject.surname)
    expect(listed.body).not.toContain(mine.subject.bsn!)
  })
})
