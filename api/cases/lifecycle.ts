// Applies a transition of the one state machine (api/domain/case-state.ts) to a locked case: checks
// the version the client saw, appends the case_events row, bumps the version and announces the
// event to the webhook subscribers of the member and the hub — all in the caller's transaction.
import { randomUUID } from 'node:crypto'
import type { Trx } from '../db/database.js'
import { nextStatus, type ActorKind, type CaseAction, type TransitionContext } from '../domain/case-state.js'
import { DomainError } from '../domain/errors.js'
import { announceDeliveries, deliverEventJob, emitEvent, fanOutSql, storedEvent, type EventType, type PlatformEvent } from '../webhooks/events.js'
import { chargeOnEnteringReview } from '../settlement/fees.service.js'
import * as repo from './cases.repository.js'
import { clocksOf } from './clocks.js'
import { earliestRunningDue } from '../domain/clocks.js'
import { dutchDate } from '../time.js'
import { enqueueManyInTransaction } from '../jobs/outbox.js'

export interface Actor {
  kind: ActorKind
  /** Key id, staff id, or the worker's name. */
  id: string
}

export interface TransitionInput {
  action: CaseAction
  actor: Actor
  reason?: string | null
  /** The version from If-Match, when the client sent one. */
  expectedVersion?: number | null
  changes?: Partial<Pick<repo.CaseRow, repo.TransitionColumn>>
}

/** The facts of the case the state machine's context-dependent transitions need (case-state.ts). */
export const transitionContext = (c: repo.CaseRow, changes: TransitionInput['changes'] = {}): TransitionContext => ({
  caseType: c.case_type,
  outcome: changes.decision_outcome ?? c.decision_outcome,
  assigned: (changes.assigned_staff_id ?? c.assigned_staff_id) !== null,
  royalDecreeRecorded: c.royal_decree_decision !== null,
})

/** What the caller read already with the case's lock, so the transition need not read it again. */
export interface KnownFacts {
  /** The case's events the clocks count from (repo.clockEventsOf), oldest first. */
  clockEvents?: ReadonlyArray<Pick<repo.EventRow, 'action' | 'created_at'>>
}

export async function applyTransition(trx: Trx, current: repo.CaseRow, input: TransitionInput, known: KnownFacts = {}): Promise<repo.CaseRow> {
  const events = known.clockEvents ?? (await repo.clockEventsOf(trx, [current.id]))
  const now = new Date()
  const t = prepareTransition(current, input, events)
  const written = await repo.writeTransition(trx, current.id, { ...t.changes, clock_due_on: t.dueOn(now) }, t.event, t.single && t.stored ? fanOutSql(t.single, t.stored) : null)
  const updated = await dueOnStoredDay(trx, t, written, now)
  if (t.single && t.stored) await announceDeliveries(trx, t.single, t.stored, written.deliveries)
  else await announce(trx, updated, { ...t.event, created_at: written.eventCreatedAt })
  await chargeIfEnteringReview(trx, t, updated)
  return updated
}

/**
 * Transitions of several locked cases of the transaction's tenant, written together: one statement
 * for all whose transition changes only the status and has one platform event (the intake checks),
 * then one for their deliveries' outbox rows. Any other transition is applied on its own. The
 * same checks, timeline rows, clocks and webhook events as applyTransition, case by case.
 */
export async function applyTransitions(
  trx: Trx,
  items: ReadonlyArray<{ current: repo.CaseRow; input: TransitionInput; known: Required<KnownFacts> }>,
): Promise<repo.CaseRow[]> {
  const now = new Date()
  const prepared = items.map(({ current, input, known }) => ({ current, input, known, t: prepareTransition(current, input, known.clockEvents) }))
  const together = prepared.filter(({ input, t }) => t.single && t.stored && Object.keys(input.changes ?? {}).length === 0)
  const written = await repo.writeTransitions(
    trx,
    together.map(({ t }) => ({ status: t.changes.status, version: t.changes.version, clockDueOn: t.dueOn(now), event: t.event, fanOut: { type: t.single!.type, stored: t.stored! } })),
  )
  const results = new Map<repo.CaseRow, repo.CaseRow>()
  const announced: Array<ReturnType<typeof deliverEventJob>> = []
  for (const { current, t } of together) {
    const w = written.get(current.id)
    if (!w) throw new Error(`the transition of case ${current.id} was not written`)
    results.set(current, await dueOnStoredDay(trx, t, w, now))
    if (w.deliveries > 0) announced.push(deliverEventJob(t.single!, t.stored!))
  }
  // One deliver-event job per event with deliveries, in one statement.
  await enqueueManyInTransaction(trx, 'notifications', 'deliver-event', announced)
  for (const { current, t } of together) await chargeIfEnteringReview(trx, t, results.get(current)!)
  for (const { current, input, known } of prepared) {
    if (!results.has(current)) results.set(current, await applyTransition(trx, current, input, known))
  }
  return items.map(({ current }) => results.get(current)!)
}

/** What a transition writes, worked out before writing: the state machine's answer, the timeline row, the one platform event. */
function prepareTransition(current: repo.CaseRow, input: TransitionInput, events: NonNullable<KnownFacts['clockEvents']>) {
  if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== current.version) {
    throw new DomainError('stale', 'version-mismatch', `the case is at version ${current.version}, not ${input.expectedVersion}; read it again`)
  }
  const to = nextStatus(current.status, input.action, input.actor.kind, transitionContext(current, input.changes))
  const version = current.version + 1
  const changes = { ...input.changes, status: to, version }
  // The transition may start or stop statutory clocks: the searchable earliest due date is worked
  // out before writing (the new event counted as of the time given), so the case is written once,
  // together with its timeline row.
  const dueOn = (at: Date) => earliestRunningDue(clocksOf({ ...current, ...changes }, [...events, { action: input.action, created_at: at }]))
  const event = eventOf(current, input, to, version)
  // A transition with one platform event fans it out in the same statement as its writes (the
  // event's data are the case's ids, reference, status and version: known before writing).
  const types = eventTypesOf(event)
  const single = types.length === 1 ? platformEventOf(types[0]!, { ...current, ...changes }, event) : null
  const stored = single ? storedEvent(single) : null
  return { current, to, changes, dueOn, event, single, stored }
}

/** After the write: the clock's due date checked against the day the event was stored on. */
async function dueOnStoredDay(
  trx: Trx,
  t: ReturnType<typeof prepareTransition>,
  written: { row: repo.CaseRow; eventCreatedAt: Date },
  now: Date,
): Promise<repo.CaseRow> {
  let updated = written.row
  // The event's stored time is what the clocks count from; should it fall on another Dutch day
  // than the one assumed (a transition at midnight), the due date is worked out again.
  if (dutchDate(written.eventCreatedAt) !== dutchDate(now)) {
    const due = t.dueOn(written.eventCreatedAt)
    if (due !== updated.clock_due_on) updated = await repo.setClockFacts(trx, t.current.id, { clock_due_on: due })
  }
  return updated
}

/** Settlement: a case entering review is charged to its member, once (idempotent per case). */
async function chargeIfEnteringReview(trx: Trx, t: ReturnType<typeof prepareTransition>, updated: repo.CaseRow): Promise<void> {
  if (t.to === 'in_review' && t.current.status !== 'in_review') await chargeOnEnteringReview(trx, updated)
}

/** A transition's timeline row, its id chosen here (the webhook event names it before it is stored). */
const eventOf = (current: repo.CaseRow, input: { action: string; actor: Actor; reason?: string | null }, to: repo.CaseRow['status'], version: number) => ({
  id: randomUUID(),
  case_id: current.id,
  hub_tenant_id: current.hub_tenant_id,
  member_tenant_id: current.member_tenant_id,
  actor_kind: input.actor.kind,
  actor_id: input.actor.id,
  action: input.action,
  from_status: current.status,
  to_status: to,
  reason: input.reason ?? null,
  version,
})

/** The timeline row of a change of `current`: who did what, from its status to `to`, at `version`. */
const appendEvent = (trx: Trx, current: repo.CaseRow, input: { action: string; actor: Actor; reason?: string | null }, to: repo.CaseRow['status'], version: number) =>
  repo.insertEvent(trx, eventOf(current, input, to, version))

export interface CaseEventInput {
  /** What happened, e.g. `appointment_booked`; not a state-machine action, the status stays. */
  action: string
  actor: Actor
  reason?: string | null
}

/**
 * A case event that is not a transition (an appointment booked, cancelled, …): the timeline row
 * with the status unchanged, the version bumped and the outbox row, in the caller's transaction.
 * The case must be locked by the caller.
 */
export async function recordCaseEvent(trx: Trx, current: repo.CaseRow, input: CaseEventInput): Promise<repo.CaseRow> {
  const version = current.version + 1
  const updated = await repo.updateCase(trx, current.id, { version })
  const event = await appendEvent(trx, current, input, current.status, version)
  await announce(trx, updated, event)
  return updated
}

/** The platform events of one case event: what a subscriber hears of it. */
export function eventTypesOf(e: Pick<repo.EventRow, 'action' | 'from_status' | 'to_status'>): EventType[] {
  if (e.action === 'submit') return ['case.submitted']
  const types: EventType[] = []
  if (e.from_status !== e.to_status) types.push('case.status_changed')
  if (e.action === 'request_information') types.push('case.information_requested')
  if (e.action === 'decide') types.push('case.decided')
  return types
}

/**
 * Announces a case event to the webhook subscribers of the member and the hub (delivery rows and
 * their outbox rows, in this transaction). Ids, the reference and statuses only: never the
 * subject, a reason or a message, which may hold personal data.
 */
export async function announce(trx: Trx, c: repo.CaseRow, event: repo.EventRow): Promise<void> {
  for (const type of eventTypesOf(event)) await emitEvent(trx, platformEventOf(type, c, event))
}

/** The platform event of one type of a case event, as the subscribers hear it. */
export const platformEventOf = (
  type: EventType,
  c: Pick<repo.CaseRow, 'id' | 'hub_tenant_id' | 'member_tenant_id' | 'reference' | 'case_type' | 'status' | 'version'>,
  event: Pick<repo.EventRow, 'id' | 'from_status'>,
): PlatformEvent => ({
  type,
  hubTenantId: c.hub_tenant_id,
  memberTenantId: c.member_tenant_id,
  objectPath: `/v1/cases/${c.id}`,
  data: {
    caseId: c.id,
    caseEventId: event.id,
    reference: c.reference,
    caseType: c.case_type,
    status: c.status,
    previousStatus: event.from_status,
    memberTenantId: c.member_tenant_id,
    hubTenantId: c.hub_tenant_id,
    version: c.version,
  },
})
