// Issue 13, group commit for submissions: the submissions of one member that arrive together are
// written by one statement in one transaction (api/cases/submission-batches.ts, submit_cases of
// migration 0026). Each request still gets its own answer — a refused case type among them its
// 422 — each case leaves exactly the rows a lone submission leaves (checklist and its summary, the
// submit event, webhook deliveries, outbox rows), and a batch that fails as a whole is written one
// by one, so only the faulty submission fails.
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as repo from '../../api/cases/cases.repository.js'
import { platformEventOf } from '../../api/cases/lifecycle.js'
import { submitTogether } from '../../api/cases/submission-batches.js'
import { addDays } from '../../api/domain/calendar.js'
import { findCaseType, requiredDocumentsFor } from '../../api/domain/case-types.js'
import { dutchDate } from '../../api/time.js'
import { storedEvent } from '../../api/webhooks/events.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, countCases, send, submitCase, type CaseJson } from '../helpers/case-builders.js'
import { expectOk, expectProblem } from '../helpers/tenancy-builders.js'
import { subscribe } from '../helpers/webhook-builders.js'

let t: TestApp
let adminKey: string

beforeAll(async () => {
  t = await startTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

const post = (key: string, body: object) => send(t.app, 'POST', '/v1/cases', key, body)

/** What a submission left behind for one case, without its ids: comparable between cases. */
async function rowsOf(caseId: string) {
  const owner = t.database.owner
  const c = await sql<{ status: string; version: number; summary: unknown; clock_due_on: string | null; due_date: string }>`
    select status, version, checklist_summary as summary, clock_due_on, due_date from cases where id = ${caseId}`.execute(owner)
  const items = await sql<{ document_kind: string; status: string }>`
    select document_kind, status from case_checklist_items where case_id = ${caseId} order by document_kind`.execute(owner)
  const events = await sql<{ action: string; actor_kind: string; from_status: string | null; to_status: string; version: number }>`
    select action, actor_kind, from_status, to_status, version from case_events where case_id = ${caseId}`.execute(owner)
  const deliveries = await sql<{ tenant_id: string; type: string; event_case: string }>`
    select tenant_id, type, event->'data'->>'caseId' as event_case from webhook_deliveries where event->'data'->>'caseId' = ${caseId} order by tenant_id`.execute(owner)
  const eventIds = await sql<{ id: string }>`select id from case_events where case_id = ${caseId}`.execute(owner)
  const outbox = await sql<{ job: string }>`
    select queue || '/' || job_name as job from outbox
    where payload->>'caseId' = ${caseId} or payload->>'eventId' in (select event_id::text from webhook_deliveries where event->'data'->>'caseId' = ${caseId})
    order by id`.execute(owner)
  return {
    case: c.rows[0],
    items: items.rows,
    events: events.rows,
    deliveries: deliveries.rows.map((d) => ({ tenant: d.tenant_id, type: d.type, ofThisCase: d.event_case === caseId })),
    outbox: outbox.rows.map((o) => o.job),
    eventCount: eventIds.rows.length,
  }
}

describe('submissions of one member that arrive together', () => {
  it('are written in fewer transactions than there are submissions, each case with its own reference and rows', async () => {
    const r = await newRegion(t.database.db)
    const n = 24
    const created = (await Promise.all(Array.from({ length: n }, () => post(r.members[0].key, caseBody())))).map((res) => expectOk<CaseJson>(res, 201))
    expect(new Set(created.map((c) => c.reference)).size).toBe(n)
    // Rows written by one transaction share its id (xmin): fewer of them than cases is the group commit.
    const { rows } = await sql<{ cases: number; transactions: number }>`
      select count(*)::int as cases, count(distinct xmin::text)::int as transactions from cases where member_tenant_id = ${r.members[0].id}`.execute(t.database.owner)
    expect(rows[0]!.cases).toBe(n)
    expect(rows[0]!.transactions).toBeLessThan(n)
    const required = [...new Set(requiredDocumentsFor(findCaseType('naturalisation', dutchDate())!, null))].sort()
    for (const c of created) {
      expect(c.checklist).toEqual(required.map((documentKind) => ({ documentKind, status: 'missing' })))
      const written = await rowsOf(c.id)
      expect(written.case).toMatchObject({ status: 'submitted', version: 1, summary: required.map((kind) => [kind, 'missing']), due_date: c.dueDate })
      expect(written.items).toEqual(required.map((document_kind) => ({ document_kind, status: 'missing' })))
      expect(written.events).toEqual([{ action: 'submit', actor_kind: 'member', from_status: null, to_status: 'submitted', version: 1 }])
      expect(written.outbox).toEqual(['case-intake/intake-checks'])
    }
  })

  it('are answered each on its own: a case type the member has not delegated gets its 422, the others their 201', async () => {
    const r = await newRegion(t.database.db)
    expectOk(await send(t.app, 'PUT', `/v1/tenants/${r.members[0].id}/agreements/option`, adminKey, { tariffCents: 45_000, validFrom: addDays(dutchDate(), 30) }))
    const types = Array.from({ length: 15 }, (_, i): 'option' | 'naturalisation' => (i % 3 === 0 ? 'option' : 'naturalisation'))
    const answers = await Promise.all(types.map((caseType) => post(r.members[0].key, caseBody({ caseType }))))
    answers.forEach((res, i) => {
      if (types[i] === 'option') expectProblem(res, 422, 'case-type-not-delegated')
      else expect(expectOk<CaseJson>(res, 201).caseType).toBe('naturalisation')
    })
    expect(await countCases(t.database.owner, r.members[0].id)).toBe(10)
  })

  it('leave exactly the rows of a lone submission, webhook deliveries and their outbox rows included', async () => {
    const r: RegionFixture = await newRegion(t.database.db)
    await subscribe(t.app, r.members[0].key, { url: 'http://127.0.0.1:9/member', events: ['case.submitted'] })
    await subscribe(t.app, r.hub.key, { url: 'http://127.0.0.1:9/hub', events: ['case.submitted'] })
    const lone = await submitCase(t.app, r.members[0].key)
    const expected = await rowsOf(lone.id)
    expect(expected.deliveries).toEqual(
      [r.hub.id, r.members[0].id].sort().map((tenant) => ({ tenant, type: 'case.submitted', ofThisCase: true })),
    )
    expect(expected.outbox).toEqual(['case-intake/intake-checks', 'notifications/deliver-event'])
    const together = (await Promise.all(Array.from({ length: 10 }, () => post(r.members[0].key, caseBody())))).map((res) => expectOk<CaseJson>(res, 201))
    for (const c of together) expect(await rowsOf(c.id)).toEqual(expected)
  })
})

describe('a batch that fails as a whole', () => {
  /** A submission as the service prepares it (cases.service submitCase), for the batch itself. */
  function submissionOf(r: RegionFixture, reference: string, caseId = randomUUID()): repo.Submission {
    const today = dutchDate()
    const definition = findCaseType('naturalisation', today)!
    const eventId = randomUUID()
    const webhookEvent = storedEvent(
      platformEventOf(
        'case.submitted',
        { id: caseId, hub_tenant_id: r.hub.id, member_tenant_id: r.members[0].id, reference, case_type: 'naturalisation', status: 'submitted', version: 1 },
        { id: eventId, from_status: null },
      ),
    )
    return {
      tenantId: r.members[0].id,
      regionId: r.regionId,
      hubTenantId: r.hub.id,
      day: today,
      caseId,
      eventId,
      createdAt: new Date(),
      reference,
      caseType: 'naturalisation',
      caseTypeVersion: definition.validFrom,
      iprMatter: null,
      subject: caseBody().subject,
      bsnHash: null,
      externalReference: null,
      note: null,
      dueDate: addDays(today, 60),
      clockDueOn: null,
      checklist: requiredDocumentsFor(definition, null),
      actorId: 'test-key',
      webhookEvent,
      intakeJob: { tenantId: r.hub.id, caseId },
      deliveryJob: { tenantId: r.hub.id, eventId: webhookEvent.id },
    }
  }

  it('is written one by one: only the faulty submission fails, the others are stored', async () => {
    const r = await newRegion(t.database.db)
    const existing = await submitCase(t.app, r.members[0].key)
    // The second reuses a stored reference: unique (hub, reference) fails the whole statement.
    const batch = [submissionOf(r, 'RB-TEST-000001'), submissionOf(r, existing.reference), submissionOf(r, 'RB-TEST-000003')]
    const outcomes = await submitTogether(t.database.db, batch)
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true])
    const { rows } = await sql<{ reference: string }>`
      select reference from cases where member_tenant_id = ${r.members[0].id} order by reference`.execute(t.database.owner)
    expect(rows.map((c) => c.reference).sort()).toEqual([existing.reference, 'RB-TEST-000001', 'RB-TEST-000003'].sort())
    for (const s of [batch[0]!, batch[2]!]) expect((await rowsOf(s.caseId)).outbox).toEqual(['case-intake/intake-checks'])
  })

  it('answers a refusal with the same outcome as submit_case alone', async () => {
    const r = await newRegion(t.database.db)
    const refused = { ...submissionOf(r, 'RB-TEST-000010'), caseType: 'option' as const }
    expectOk(await send(t.app, 'PUT', `/v1/tenants/${r.members[0].id}/agreements/option`, adminKey, { tariffCents: 45_000, validFrom: addDays(dutchDate(), 30) }))
    const outcomes = await submitTogether(t.database.db, [submissionOf(r, 'RB-TEST-000011'), refused])
    expect(outcomes[0]).toMatchObject({ ok: true, value: { case: { reference: 'RB-TEST-000011', status: 'submitted' } } })
    expect(outcomes[1]).toEqual({ ok: true, value: { refused: 'case-type-not-delegated' } })
  })
})
