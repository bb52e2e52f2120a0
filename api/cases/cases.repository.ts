// All SQL of the cases feature (STYLE.md §9). Runs in a transaction with a tenant set; RLS makes
// sure only the case's member and hub see its rows, the explicit tenant filters use the indexes.
import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely'
import type { Db, TenantScope, Trx } from '../db/database.js'
import type { JobPayload } from '../jobs/registry.js'
import type { CaseChecklistItemsTable, CaseEventsTable, CasesTable, CaseSubjectJson, WebhookEventJson } from '../db/schema.js'
import type { CaseStatus } from '../domain/case-state.js'
import type { CaseTypeCode } from '../domain/case-types.js'
import type { DocumentKind } from '../domain/document-kinds.js'

export type CaseRow = Selectable<CasesTable>
export type ChecklistRow = Selectable<CaseChecklistItemsTable>
export type EventRow = Selectable<CaseEventsTable>

/** The agreement under which `memberTenantId` delegates `caseType` on `day`, if any. */
export const agreementOn = (trx: Trx, memberTenantId: string, caseType: CaseTypeCode, day: string) =>
  trx
    .selectFrom('agreements')
    .select(['id', 'hub_tenant_id', 'tariff_cents'])
    .where('member_tenant_id', '=', memberTenantId)
    .where('case_type', '=', caseType)
    .where('valid_from', '<=', day)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>=', day)]))
    .executeTakeFirst()

/** A tenant's status as the submitting member sees it (its region's tenants are visible to it). */
export const tenantStatus = async (trx: Trx, tenantId: string): Promise<string | null> =>
  (await trx.selectFrom('tenants').select('status').where('id', '=', tenantId).executeTakeFirst())?.status ?? null

export const insertCase = (
  trx: Trx,
  values: Omit<Insertable<CasesTable>, 'subject'> & { subject: CaseSubjectJson },
): Promise<CaseRow> =>
  trx
    .insertInto('cases')
    .values({ ...values, subject: JSON.stringify(values.subject) })
    .returningAll()
    .executeTakeFirstOrThrow()

export interface Submission {
  tenantId: string
  regionId: string | null
  /** The hub whose reference block the number came from (the region's hub); null without one. */
  hubTenantId: string | null
  /** The day the agreement must be valid on. */
  day: string
  caseId: string
  eventId: string
  createdAt: Date
  reference: string
  caseType: CaseTypeCode
  caseTypeVersion: string
  iprMatter: CaseRow['ipr_matter']
  subject: CaseSubjectJson
  bsnHash: Buffer | null
  externalReference: string | null
  note: string | null
  dueDate: string
  clockDueOn: string | null
  checklist: readonly DocumentKind[]
  /** The submitting client's key (the event's actor). */
  actorId: string
  /** The `case.submitted` event as fanned out to the webhook subscriptions. */
  webhookEvent: WebhookEventJson
  intakeJob: JobPayload<'case-intake', 'intake-checks'>
  deliveryJob: JobPayload<'notifications', 'deliver-event'>
}

export type SubmissionRefusal = 'case-type-not-delegated' | 'hub-suspended' | 'foreign-hub'
const REFUSAL_OF_SQLSTATE: Record<string, SubmissionRefusal> = { RB001: 'case-type-not-delegated', RB002: 'hub-suspended', RB003: 'foreign-hub' }

/**
 * The whole submission in one statement (submit_case, migration 0015): tenant and region set,
 * routed by the agreement valid on the day, the hub's status checked, then the case, checklist,
 * submit event, webhook fan-out and outbox rows written — one round trip, one implicit transaction.
 */
export async function submitCase(db: Db, s: Submission): Promise<{ case: CaseRow } | { refused: SubmissionRefusal }> {
  try {
    const { rows } = await sql<CaseRow>`
      select * from submit_case(${s.tenantId}::uuid, ${s.regionId}::uuid, ${s.hubTenantId}::uuid, ${s.day}::date,
        ${s.caseId}::uuid, ${s.eventId}::uuid, ${s.createdAt}::timestamptz, ${s.reference}::text,
        ${s.caseType}::text, ${s.caseTypeVersion}::date, ${s.iprMatter}::text, ${JSON.stringify(s.subject)}::jsonb, ${s.bsnHash}::bytea,
        ${s.externalReference}::text, ${s.note}::text, ${s.dueDate}::date, ${s.clockDueOn}::date,
        ${[...s.checklist]}::text[], ${s.actorId}::text, ${JSON.stringify(s.webhookEvent)}::jsonb,
        ${JSON.stringify(s.intakeJob)}::jsonb, ${JSON.stringify(s.deliveryJob)}::jsonb)`.execute(db)
    const row = rows[0]
    if (!row) throw new Error('submit_case returned no row')
    return { case: row }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const refused = typeof code === 'string' ? REFUSAL_OF_SQLSTATE[code] : undefined
    if (refused) return { refused }
    throw err
  }
}

/** A submission as submit_cases takes it (the composite type case_submission, migration 0026). */
const caseSubmissionOf = (s: Submission) => ({
  case_id: s.caseId,
  event_id: s.eventId,
  hub: s.hubTenantId,
  day: s.day,
  created_at: s.createdAt.toISOString(),
  reference: s.reference,
  case_type: s.caseType,
  case_type_version: s.caseTypeVersion,
  ipr_matter: s.iprMatter,
  subject: s.subject,
  bsn_hash: s.bsnHash ? `\\x${s.bsnHash.toString('hex')}` : null,
  external_reference: s.externalReference,
  note: s.note,
  due_date: s.dueDate,
  clock_due_on: s.clockDueOn,
  checklist: s.checklist,
  actor_id: s.actorId,
  webhook_event: s.webhookEvent,
  intake_job: s.intakeJob,
  delivery_job: s.deliveryJob,
})

/**
 * Several submissions of one member in one statement (submit_cases, migration 0026): what
 * submitCase writes for each, in one transaction. Returns the cases written; a submission whose
 * case is missing was refused, and submitCase tells which refusal.
 */
export async function submitCases(db: Db, scope: TenantScope, submissions: readonly Submission[]): Promise<CaseRow[]> {
  const { rows } = await sql<CaseRow>`
    select * from submit_cases(${scope.tenantId}::uuid, ${scope.regionId}::uuid, ${JSON.stringify(submissions.map(caseSubmissionOf))}::jsonb)`.execute(db)
  return rows
}

export const findCase = (trx: Trx, caseId: string): Promise<CaseRow | undefined> =>
  trx.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst()

/** The case, locked for the rest of the transaction (STYLE.md §10). */
export const lockCase = (trx: Trx, caseId: string): Promise<CaseRow | undefined> =>
  trx.selectFrom('cases').selectAll().where('id', '=', caseId).forUpdate().executeTakeFirst()

/** The columns a transition may change besides status and version. */
export type TransitionColumn =
  | 'assigned_staff_id'
  | 'decision_outcome'
  | 'decision_note'
  | 'decided_at'
  | 'decided_by'
  | 'royal_decree_decision'
  | 'royal_decree_date'
  | 'royal_decree_number'
  | 'royal_decree_recorded_at'
  | 'ceremony_invited_on'
  | 'clock_due_on'

export const updateCase = (
  trx: Trx,
  caseId: string,
  changes: Partial<Pick<CaseRow, 'status' | TransitionColumn>> & { version: number },
): Promise<CaseRow> =>
  trx
    .updateTable('cases')
    .set({ ...changes, updated_at: sql`date_trunc('milliseconds', now())` })
    .where('id', '=', caseId)
    .returningAll()
    .executeTakeFirstOrThrow()

export interface CaseFilter {
  side: 'member' | 'hub'
  tenantId: string
  status?: CaseStatus
  caseType?: CaseTypeCode
  assignedStaffId?: string
  memberTenantId?: string
  /** Only cases no specialist has yet (the lead's assignment queue). */
  unassigned?: boolean

  /** The earliest running clock's last day: before a day (overdue), or within a range. */
  clockDue?: { before?: string; from?: string; until?: string }
}

export const insertChecklist = async (trx: Trx, c: CaseRow, kinds: readonly DocumentKind[]): Promise<void> => {
  if (kinds.length === 0) return
  await trx
    .insertInto('case_checklist_items')
    .values(kinds.map((k) => ({ case_id: c.id, hub_tenant_id: c.hub_tenant_id, member_tenant_id: c.member_tenant_id, document_kind: k })))
    .onConflict((oc) => oc.columns(['case_id', 'document_kind']).doNothing())
    .execute()
}

/** Requested kinds are (again) missing and awaited: new items, and existing ones reopened whatever their state. */
export const requireDocuments = async (trx: Trx, c: CaseRow, kinds: readonly DocumentKind[]): Promise<void> => {
  if (kinds.length === 0) return
  await trx
    .insertInto('case_checklist_items')
    .values(
      kinds.map((k) => ({ case_id: c.id, hub_tenant_id: c.hub_tenant_id, member_tenant_id: c.member_tenant_id, document_kind: k, requested_at: sql<Date>`now()` })),
    )
    .onConflict((oc) => oc.columns(['case_id', 'document_kind']).doUpdateSet({ status: 'missing', requested_at: sql`now()`, updated_at: sql`now()` }))
    .execute()
}

/** The requested items have all arrived: nothing is awaited any more. */
export const clearRequested = async (trx: Trx, caseId: string): Promise<void> => {
  await trx.updateTable('case_checklist_items').set({ requested_at: null }).where('case_id', '=', caseId).execute()
}

export const checklistOf = (trx: Trx, caseIds: string[]): Promise<ChecklistRow[]> =>
  caseIds.length === 0
    ? Promise.resolve([])
    : trx.selectFrom('case_checklist_items').selectAll().where('case_id', 'in', caseIds).orderBy('case_id').orderBy('document_kind').execute()

export const insertEvent = (
  trx: Trx,
  values: Omit<Selectable<CaseEventsTable>, 'id' | 'created_at'>,
): Promise<EventRow> => trx.insertInto('case_events').values(values).returningAll().executeTakeFirstOrThrow()

export const eventsOf = (trx: Trx, caseId: string): Promise<EventRow[]> =>
  trx.selectFrom('case_events').selectAll().where('case_id', '=', caseId).orderBy('version').execute()

/** Open cases per assigned staff member of a hub: each specialist's load. */
export const openCasesPerStaff = (trx: Trx, hubTenantId: string, openStatuses: readonly CaseStatus[]) =>
  trx
    .selectFrom('cases')
    .select(['assigned_staff_id', sql<number>`count(*)::int`.as('open')])
    .where('hub_tenant_id', '=', hubTenantId)
    .where('assigned_staff_id', 'is not', null)
    .where('status', 'in', [...openStatuses])
    .groupBy('assigned_staff_id')
    .execute()

/** The events the statutory clocks need (api/cases/clocks.ts), for one or more cases. */
export const clockEventsOf = (trx: Trx, caseIds: string[]): Promise<Array<Pick<EventRow, 'case_id' | 'action' | 'created_at'>>> =>
  caseIds.length === 0
    ? Promise.resolve([])
    : trx
        .selectFrom('case_events')
        .select(['case_id', 'action', 'created_at'])
        .where('case_id', 'in', caseIds)
        .where('action', 'in', ['ceremony_attended', 'decree_lapsed', 'withdraw', 'reject_at_intake', 'close'])
        .orderBy('case_id')
        .orderBy('version')
        .execute()

/** Facts the clocks count from that are not transitions (fee paid, invitation sent), and the clock column. */
export const setClockFacts = (
  trx: Trx,
  caseId: string,
  changes: Partial<Pick<CaseRow, 'fee_paid_on' | 'ceremony_invited_on' | 'clock_due_on'>>,
): Promise<CaseRow> =>
  trx
    .updateTable('cases')
    .set({ ...changes, updated_at: sql`date_trunc('milliseconds', now())` })
    .where('id', '=', caseId)
    .returningAll()
    .executeTakeFirstOrThrow()

/**
 * A transition's writes in one statement: the timeline row (its id chosen by the caller), the
 * case's new status, version and other columns, and — when given — the webhook fan-out of its event
 * (api/webhooks/events.ts fanOutSql). Returns the case as stored, the time the event was stored at
 * (the clocks count from its Dutch date) and how many deliveries the fan-out made.
 */
export async function writeTransition(
  trx: Trx,
  caseId: string,
  changes: Partial<Pick<CaseRow, 'status' | TransitionColumn>> & { version: number },
  event: Omit<Selectable<CaseEventsTable>, 'created_at'>,
  fanOut: RawBuilder<unknown> | null = null,
): Promise<{ row: CaseRow; eventCreatedAt: Date; deliveries: number }> {
  const { event_created_at: eventCreatedAt, deliveries, ...row } = await trx
    .with('e', (db) => db.insertInto('case_events').values(event).returning('created_at'))
    .with('f(n)', () => sql<{ n: number }>`(select count(*)::int from (${fanOut ?? sql`select 1 where false`}) d)`)
    .updateTable('cases')
    .from(['e', 'f'])
    .set({ ...changes, updated_at: sql`date_trunc('milliseconds', now())` })
    .where('cases.id', '=', caseId)
    .returningAll('cases')
    .returning(['e.created_at as event_created_at', 'f.n as deliveries'])
    .executeTakeFirstOrThrow()
  return { row, eventCreatedAt, deliveries }
}

/** One case's share of writeTransitions: its new status and version, due date, timeline row and platform event. */
export interface BatchedTransition {
  status: CaseStatus
  version: number
  clockDueOn: string | null
  event: Omit<Selectable<CaseEventsTable>, 'created_at'>
  fanOut: { type: string; stored: WebhookEventJson }
}

/**
 * writeTransition for many cases of the transaction's tenant in one statement: the timeline rows,
 * each event's webhook fan-out (webhook_fan_out, once per case) and the cases' new status, version
 * and due date. Answers per case id as writeTransition does.
 */
export async function writeTransitions(
  trx: Trx,
  items: readonly BatchedTransition[],
): Promise<Map<string, { row: CaseRow; eventCreatedAt: Date; deliveries: number }>> {
  if (items.length === 0) return new Map()
  const input = items.map((t) => ({ ...t.event, status: t.status, version: t.version, clock_due_on: t.clockDueOn, type: t.fanOut.type, stored: t.fanOut.stored }))
  const { rows } = await sql<CaseRow & { event_created_at: Date; deliveries: number }>`
    with i as (
      select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb) as x(
        id uuid, case_id uuid, hub_tenant_id uuid, member_tenant_id uuid, actor_kind text, actor_id text, action text,
        from_status text, to_status text, reason text, version integer, status text, clock_due_on date, type text, stored jsonb)
    ),
    e as (
      insert into case_events (id, case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version)
      select id, case_id, hub_tenant_id, member_tenant_id, actor_kind, actor_id, action, from_status, to_status, reason, version from i
      returning case_id, created_at
    ),
    f as (
      -- count() reads every row of the fan-out, so each event is fanned out whatever the plan.
      select i.case_id, count(d.delivery_id)::int as n
      from i cross join lateral webhook_fan_out((i.stored->>'id')::uuid, i.type, i.hub_tenant_id, i.member_tenant_id, i.stored) d
      group by i.case_id
    ),
    u as (
      update cases c set status = i.status, version = i.version, clock_due_on = i.clock_due_on, updated_at = date_trunc('milliseconds', now())
      from i where c.id = i.case_id
      returning c.*
    )
    select u.*, e.created_at as event_created_at, coalesce(f.n, 0) as deliveries
    from u join e on e.case_id = u.id left join f on f.case_id = u.id`.execute(trx)
  return new Map(rows.map(({ event_created_at, deliveries, ...row }) => [row.id, { row, eventCreatedAt: event_created_at, deliveries }]))
}

/** What the intake checks of a submitted case need, read with the case's lock in one statement. */
export interface IntakeFacts {
  /** The hub of the member's agreement for the case type on the (Dutch) submission date, if any. */
  agreementHubTenantId: string | null
  memberStatus: string | null
  /** The case's events the clocks count from (clockEventsOf), oldest first. */
  clockEvents: Array<Pick<EventRow, 'action' | 'created_at'>>
}

/**
 * The submitted cases of one batch of intake jobs, locked in id order (two batches never wait on
 * each other in a circle), each with what its intake checks need, in one statement. Ids that
 * name no case of the tenant are left out.
 */
export async function lockCasesForIntake(trx: Trx, caseIds: readonly string[], clockActions: readonly string[]): Promise<Array<{ c: CaseRow; facts: IntakeFacts }>> {
  if (caseIds.length === 0) return []
  const submittedOn = sql`(c.created_at at time zone 'Europe/Amsterdam')::date`
  const found = await trx
    .selectFrom('cases as c')
    .selectAll('c')
    .select([
      sql<string | null>`(select a.hub_tenant_id from agreements a
        where a.member_tenant_id = c.member_tenant_id and a.case_type = c.case_type
          and a.valid_from <= ${submittedOn} and (a.valid_until is null or a.valid_until >= ${submittedOn})
        limit 1)`.as('agreement_hub_tenant_id'),
      sql<string | null>`(select t.status from tenants t where t.id = c.member_tenant_id)`.as('member_status'),
      sql<Array<{ action: string; created_at: string }>>`coalesce((select json_agg(json_build_object('action', e.action, 'created_at', e.created_at) order by e.version)
        from case_events e where e.case_id = c.id and e.action in (${sql.join(clockActions)})), '[]'::json)`.as('clock_events'),
    ])
    .where(sql<boolean>`c.id = any(${[...caseIds]}::uuid[])`)
    .orderBy('c.id')
    .forUpdate()
    .execute()
  return found.map(({ agreement_hub_tenant_id, member_status, clock_events, ...c }) => ({
    c,
    facts: {
      agreementHubTenantId: agreement_hub_tenant_id,
      memberStatus: member_status,
      clockEvents: clock_events.map((e) => ({ action: e.action, created_at: new Date(e.created_at) })),
    },
  }))
}
