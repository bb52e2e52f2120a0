import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import {
  ACTOR_KINDS,
  CASE_ACTIONS,
  CASE_STATUSES,
  type ActorKind,
  type CaseAction,
  type CaseStatus,
  allowedActions,
  isOpen,
  nextStatus,
} from '../../api/domain/case-state.js'
import { DomainError } from '../../api/domain/errors.js'
import { STATUS_OF_KIND } from '../../api/http/problem.js'

// The allowed table, written out independently of the module: [from, action, actors, to].
const ALLOWED: Array<[CaseStatus, CaseAction, ActorKind[], CaseStatus]> = [
  ['submitted', 'route', ['system'], 'intake'],
  ['submitted', 'reject_at_intake', ['system', 'hub'], 'rejected_at_intake'],
  ['intake', 'reject_at_intake', ['system', 'hub'], 'rejected_at_intake'],
  ['intake', 'assign', ['hub'], 'in_review'],
  ['in_review', 'assign', ['hub'], 'in_review'],
  ['awaiting_information', 'assign', ['hub'], 'awaiting_information'],
  ['in_review', 'request_information', ['hub'], 'awaiting_information'],
  ['awaiting_information', 'information_received', ['system'], 'in_review'],
  ['in_review', 'schedule', ['system', 'hub'], 'scheduled'],
  ['in_review', 'decide', ['hub'], 'decided'],
  ['scheduled', 'decide', ['hub'], 'decided'],
  ['decided', 'close', ['hub'], 'closed'],
  ['withdrawn', 'close', ['hub'], 'closed'],
  ['rejected_at_intake', 'close', ['hub'], 'closed'],
  ['submitted', 'withdraw', ['member'], 'withdrawn'],
  ['intake', 'withdraw', ['member'], 'withdrawn'],
  ['in_review', 'withdraw', ['member'], 'withdrawn'],
  ['awaiting_information', 'withdraw', ['member'], 'withdrawn'],
  ['scheduled', 'withdraw', ['member'], 'withdrawn'],
]

const OPEN: CaseStatus[] = ['submitted', 'intake', 'in_review', 'awaiting_information', 'scheduled']

const ACTORS_OF: Record<CaseAction, ActorKind[]> = {
  route: ['system'],
  reject_at_intake: ['system', 'hub'],
  assign: ['hub'],
  request_information: ['hub'],
  information_received: ['system'],
  schedule: ['system', 'hub'],
  decide: ['hub'],
  close: ['hub'],
  withdraw: ['member'],
}

const lookup = (from: CaseStatus, action: CaseAction, actor: ActorKind): CaseStatus | undefined =>
  ALLOWED.find(([f, a, actors]) => f === from && a === action && actors.includes(actor))?.[3]

const refusal = (status: CaseStatus, action: CaseAction, actor: ActorKind): { status: number; code: string } | null => {
  try {
    nextStatus(status, action, actor)
    return null
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError)
    const p = err as DomainError
    expect(p.message.length).toBeGreaterThan(0)
    return { status: STATUS_OF_KIND[p.kind], code: p.code }
  }
}

describe('isOpen', () => {
  it.each(CASE_STATUSES.map((s) => [s, OPEN.includes(s)] as const))('%s → %s', (status, open) => {
    expect(isOpen(status)).toBe(open)
  })
})

describe('allowed transitions', () => {
  it.each(ALLOWED.flatMap(([from, action, actors, to]) => actors.map((actor) => [from, action, actor, to] as const)))(
    '%s --%s by %s--> %s',
    (from, action, actor, to) => {
      expect(nextStatus(from, action, actor)).toBe(to)
    },
  )
})

describe('refused transitions', () => {
  it.each([
    ['decided', 'withdraw', 'member', 409, 'case-closed'],
    ['closed', 'withdraw', 'member', 409, 'case-closed'],
    ['withdrawn', 'withdraw', 'member', 409, 'case-closed'],
    ['rejected_at_intake', 'withdraw', 'member', 409, 'case-closed'],
    ['closed', 'close', 'hub', 409, 'case-closed'],
    ['closed', 'assign', 'hub', 409, 'case-closed'],
    ['decided', 'decide', 'hub', 409, 'case-closed'],
    ['withdrawn', 'assign', 'hub', 409, 'case-closed'],
    ['decided', 'request_information', 'hub', 409, 'case-closed'],
    ['in_review', 'close', 'hub', 409, 'invalid-transition'],
    ['submitted', 'close', 'hub', 409, 'invalid-transition'],
    ['intake', 'route', 'system', 409, 'invalid-transition'],
    ['submitted', 'assign', 'hub', 409, 'invalid-transition'],
    ['intake', 'decide', 'hub', 409, 'invalid-transition'],
    ['awaiting_information', 'decide', 'hub', 409, 'invalid-transition'],
    ['awaiting_information', 'schedule', 'hub', 409, 'invalid-transition'],
    ['scheduled', 'schedule', 'system', 409, 'invalid-transition'],
    ['scheduled', 'assign', 'hub', 409, 'invalid-transition'],
    ['in_review', 'reject_at_intake', 'hub', 409, 'invalid-transition'],
    ['in_review', 'information_received', 'system', 409, 'invalid-transition'],
    ['in_review', 'withdraw', 'hub', 403, 'forbidden-action'],
    ['in_review', 'decide', 'member', 403, 'forbidden-action'],
    ['in_review', 'decide', 'system', 403, 'forbidden-action'],
    ['submitted', 'route', 'hub', 403, 'forbidden-action'],
    ['decided', 'close', 'member', 403, 'forbidden-action'],
    ['intake', 'assign', 'system', 403, 'forbidden-action'],
    ['awaiting_information', 'information_received', 'hub', 403, 'forbidden-action'],
    // the actor check comes first and does not reveal the case's state
    ['closed', 'decide', 'member', 403, 'forbidden-action'],
  ] as const)('%s --%s by %s--> %i %s', (from, action, actor, status, code) => {
    expect(refusal(from, action, actor)).toEqual({ status, code })
  })

  it('refuses every combination outside the table, with the right status and code', () => {
    for (const from of CASE_STATUSES) {
      for (const action of CASE_ACTIONS) {
        for (const actor of ACTOR_KINDS) {
          const to = lookup(from, action, actor)
          if (to !== undefined) {
            expect(nextStatus(from, action, actor)).toBe(to)
            continue
          }
          const expected = !ACTORS_OF[action].includes(actor)
            ? { status: 403, code: 'forbidden-action' }
            : from === 'closed' || (!OPEN.includes(from) && action !== 'close')
              ? { status: 409, code: 'case-closed' }
              : { status: 409, code: 'invalid-transition' }
          expect(refusal(from, action, actor), `${from} ${action} ${actor}`).toEqual(expected)
        }
      }
    }
  })
})

describe('allowedActions', () => {
  it.each([
    ['submitted', 'system', ['route', 'reject_at_intake']],
    ['submitted', 'hub', ['reject_at_intake']],
    ['submitted', 'member', ['withdraw']],
    ['intake', 'hub', ['reject_at_intake', 'assign']],
    ['in_review', 'hub', ['assign', 'request_information', 'schedule', 'decide']],
    ['in_review', 'system', ['schedule']],
    ['awaiting_information', 'hub', ['assign']],
    ['awaiting_information', 'system', ['information_received']],
    ['scheduled', 'hub', ['decide']],
    ['decided', 'hub', ['close']],
    ['decided', 'member', []],
    ['withdrawn', 'hub', ['close']],
    ['rejected_at_intake', 'hub', ['close']],
    ['closed', 'hub', []],
    ['closed', 'member', []],
    ['closed', 'system', []],
  ] as const)('%s for %s: %j', (status, actor, actions) => {
    expect(allowedActions(status, actor)).toEqual(actions)
  })

  it('agrees with nextStatus for every status and actor', () => {
    for (const status of CASE_STATUSES) {
      for (const actor of ACTOR_KINDS) {
        const allowed = allowedActions(status, actor)
        for (const action of CASE_ACTIONS) {
          expect(refusal(status, action, actor) === null).toBe(allowed.includes(action))
        }
      }
    }
  })
})

describe('property: random action sequences', () => {
  const step = fc.record({ action: fc.constantFrom(...CASE_ACTIONS), actor: fc.constantFrom(...ACTOR_KINDS) })

  it('never leave closed, only take tabled transitions, and withdraw only open cases', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CASE_STATUSES), fc.array(step, { maxLength: 60 }), (start, steps) => {
        let status: CaseStatus = start
        let wasClosed = status === 'closed'
        for (const { action, actor } of steps) {
          let to: CaseStatus | undefined
          try {
            to = nextStatus(status, action, actor)
          } catch (err) {
            expect(err).toBeInstanceOf(DomainError)
            expect(['forbidden', 'conflict']).toContain((err as DomainError).kind)
            expect(lookup(status, action, actor)).toBeUndefined()
            continue
          }
          expect(wasClosed).toBe(false)
          expect(lookup(status, action, actor)).toBe(to)
          if (to === 'withdrawn') expect(isOpen(status)).toBe(true)
          status = to
          if (status === 'closed') wasClosed = true
        }
      }),
      { numRuns: 500 },
    )
  })

  it('from every status some path leads to closed, and closed leads nowhere', () => {
    const reachable = (from: CaseStatus): Set<CaseStatus> => {
      const seen = new Set<CaseStatus>([from])
      const queue = [from]
      while (queue.length > 0) {
        const s = queue.shift()!
        for (const actor of ACTOR_KINDS) {
          for (const action of allowedActions(s, actor)) {
            const to = nextStatus(s, action, actor)
            if (!seen.has(to)) {
              seen.add(to)
              queue.push(to)
            }
          }
        }
      }
      return seen
    }
    for (const status of CASE_STATUSES) expect(reachable(status).has('closed')).toBe(true)
    expect([...reachable('closed')]).toEqual(['closed'])
  })
})
