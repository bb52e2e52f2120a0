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
  type TransitionContext,
} from '../../api/domain/case-state.js'
import { CASE_TYPE_CODES } from '../../api/domain/case-types.js'
import { OUTCOMES } from '../../api/domain/outcomes.js'
import { DomainError } from '../../api/domain/errors.js'
import { STATUS_OF_KIND } from '../../api/http/problem.js'

// The context the table below holds for: a naturalisation advised to grant, no decree yet, not
// assigned. The context-dependent targets are tested on their own further down.
const CTX: TransitionContext = { caseType: 'naturalisation', outcome: 'advise_grant', assigned: false, royalDecreeRecorded: false }

// The allowed table, written out independently of the module: [from, action, actors, to].
const ALLOWED: Array<[CaseStatus, CaseAction, ActorKind[], CaseStatus]> = [
  ['submitted', 'route', ['system'], 'intake'],
  ['submitted', 'assign', ['hub'], 'submitted'],
  ['decided', 'royal_decree_granted', ['hub'], 'awaiting_ceremony'],
  ['decided', 'royal_decree_refused', ['hub'], 'decided'],
  ['awaiting_ceremony', 'ceremony_attended', ['system', 'hub'], 'closed'],
  ['awaiting_ceremony', 'decree_lapsed', ['system'], 'closed'],
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
/** Actions that work on a case that is no longer open. */
const ON_FINISHED: CaseAction[] = ['royal_decree_granted', 'royal_decree_refused', 'ceremony_attended', 'decree_lapsed', 'close']

const ACTORS_OF: Record<CaseAction, ActorKind[]> = {
  route: ['system'],
  reject_at_intake: ['system', 'hub'],
  assign: ['hub'],
  request_information: ['hub'],
  information_received: ['system'],
  schedule: ['system', 'hub'],
  decide: ['hub'],
  royal_decree_granted: ['hub'],
  royal_decree_refused: ['hub'],
  ceremony_attended: ['system', 'hub'],
  decree_lapsed: ['system'],
  close: ['hub'],
  withdraw: ['member'],
}

const lookup = (from: CaseStatus, action: CaseAction, actor: ActorKind): CaseStatus | undefined =>
  ALLOWED.find(([f, a, actors]) => f === from && a === action && actors.includes(actor))?.[3]

const refusal = (
  status: CaseStatus,
  action: CaseAction,
  actor: ActorKind,
  ctx: TransitionContext = CTX,
): { status: number; code: string } | null => {
  try {
    nextStatus(status, action, actor, ctx)
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
      expect(nextStatus(from, action, actor, CTX)).toBe(to)
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
    ['intake', 'decide', 'hub', 409, 'invalid-transition'],
    ['awaiting_information', 'decide', 'hub', 409, 'invalid-transition'],
    ['awaiting_information', 'schedule', 'hub', 409, 'invalid-transition'],
    ['scheduled', 'schedule', 'system', 409, 'invalid-transition'],
    ['scheduled', 'assign', 'hub', 409, 'invalid-transition'],
    ['awaiting_ceremony', 'withdraw', 'member', 409, 'case-closed'],
    ['awaiting_ceremony', 'close', 'hub', 409, 'invalid-transition'],
    ['awaiting_ceremony', 'assign', 'hub', 409, 'case-closed'],
    ['awaiting_ceremony', 'royal_decree_granted', 'hub', 409, 'invalid-transition'],
    ['in_review', 'royal_decree_granted', 'hub', 409, 'invalid-transition'],
    ['closed', 'royal_decree_granted', 'hub', 409, 'case-closed'],
    ['closed', 'ceremony_attended', 'system', 409, 'case-closed'],
    ['decided', 'ceremony_attended', 'hub', 409, 'invalid-transition'],
    ['decided', 'decree_lapsed', 'system', 409, 'invalid-transition'],
    ['awaiting_ceremony', 'decree_lapsed', 'hub', 403, 'forbidden-action'],
    ['awaiting_ceremony', 'ceremony_attended', 'member', 403, 'forbidden-action'],
    ['decided', 'royal_decree_granted', 'system', 403, 'forbidden-action'],
    ['decided', 'royal_decree_refused', 'member', 403, 'forbidden-action'],
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
            expect(nextStatus(from, action, actor, CTX)).toBe(to)
            continue
          }
          const expected = !ACTORS_OF[action].includes(actor)
            ? { status: 403, code: 'forbidden-action' }
            : from === 'closed' || (!OPEN.includes(from) && !ON_FINISHED.includes(action))
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
    ['submitted', 'hub', ['reject_at_intake', 'assign']],
    ['submitted', 'member', ['withdraw']],
    ['intake', 'hub', ['reject_at_intake', 'assign']],
    ['in_review', 'hub', ['assign', 'request_information', 'schedule', 'decide']],
    ['in_review', 'system', ['schedule']],
    ['awaiting_information', 'hub', ['assign']],
    ['awaiting_information', 'system', ['information_received']],
    ['scheduled', 'hub', ['decide']],
    ['decided', 'hub', ['royal_decree_granted', 'royal_decree_refused', 'close']],
    ['decided', 'member', []],
    ['awaiting_ceremony', 'hub', ['ceremony_attended']],
    ['awaiting_ceremony', 'system', ['ceremony_attended', 'decree_lapsed']],
    ['awaiting_ceremony', 'member', []],
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
          const withCtx = allowedActions(status, actor, CTX)
          expect(withCtx).toEqual(allowed)
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
            to = nextStatus(status, action, actor, CTX)
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
            const to = nextStatus(s, action, actor, CTX)
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

describe('transitions that depend on the case', () => {
  it('decide goes where the outcome of the case type says', () => {
    const expected: Record<string, CaseStatus> = {
      'naturalisation/advise_grant': 'decided',
      'naturalisation/advise_refuse': 'decided',
      'option/grant': 'awaiting_ceremony',
      'option/refuse': 'decided',
      'first_registration/registered': 'decided',
      'first_registration/refused': 'decided',
      'ipr_assessment/recognised': 'decided',
      'ipr_assessment/not_recognised': 'decided',
    }
    const seen: string[] = []
    for (const caseType of CASE_TYPE_CODES) {
      for (const { code } of OUTCOMES[caseType]) {
        const key = `${caseType}/${code}`
        seen.push(key)
        for (const from of ['in_review', 'scheduled'] as const) {
          expect(nextStatus(from, 'decide', 'hub', { caseType, outcome: code }), key).toBe(expected[key])
        }
      }
    }
    expect(seen.sort()).toEqual(Object.keys(expected).sort())
  })

  it.each([
    ['naturalisation', 'granted'],
    ['naturalisation', 'grant'],
    ['option', 'advise_grant'],
    ['option', 'granted'],
    ['first_registration', 'recognised'],
    ['ipr_assessment', 'registered'],
    ['ipr_assessment', ''],
    ['unknown_type', 'grant'],
  ])('decide on a %s with outcome %j → 400 naming outcome', (caseType, outcome) => {
    try {
      nextStatus('in_review', 'decide', 'hub', { caseType, outcome })
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError)
      const e = err as DomainError
      expect(STATUS_OF_KIND[e.kind]).toBe(400)
      expect(e.invalidFields?.map((f) => f.name)).toEqual(['outcome'])
      expect(e.invalidFields?.[0]?.code).toBe('invalid-outcome')
    }
  })

  it('the state is checked before the outcome: deciding a closed case is 409 whatever the outcome', () => {
    expect(refusal('closed', 'decide', 'hub', { caseType: 'option', outcome: 'nonsense' })).toEqual({ status: 409, code: 'case-closed' })
  })

  it('route goes straight to review when a specialist was assigned during intake', () => {
    expect(nextStatus('submitted', 'route', 'system', { assigned: true })).toBe('in_review')
    expect(nextStatus('submitted', 'route', 'system', { assigned: false })).toBe('intake')
    expect(nextStatus('submitted', 'route', 'system')).toBe('intake')
  })

  it.each([
    [{ caseType: 'option', outcome: 'grant' }],
    [{ caseType: 'naturalisation', outcome: 'advise_refuse' }],
    [{ caseType: 'naturalisation', outcome: null }],
    [{ caseType: 'first_registration', outcome: 'registered' }],
    [{ caseType: 'naturalisation', outcome: 'advise_grant', royalDecreeRecorded: true }],
  ] as const)('the Royal Decree is refused with 409 invalid-transition for %j', (ctx) => {
    for (const action of ['royal_decree_granted', 'royal_decree_refused'] as const) {
      expect(refusal('decided', action, 'hub', ctx)).toEqual({ status: 409, code: 'invalid-transition' })
      expect(allowedActions('decided', 'hub', ctx)).not.toContain(action)
    }
  })

  it('an option grant reaches closed through the ceremony, a decree through the ceremony or the lapse', () => {
    const option = nextStatus('in_review', 'decide', 'hub', { caseType: 'option', outcome: 'grant' })
    expect(option).toBe('awaiting_ceremony')
    expect(nextStatus(option, 'ceremony_attended', 'system')).toBe('closed')
    const natCtx = { caseType: 'naturalisation', outcome: 'advise_grant' }
    const decided = nextStatus('in_review', 'decide', 'hub', natCtx)
    const awaiting = nextStatus(decided, 'royal_decree_granted', 'hub', natCtx)
    expect(awaiting).toBe('awaiting_ceremony')
    expect(isOpen(awaiting)).toBe(false)
    expect(nextStatus(awaiting, 'decree_lapsed', 'system')).toBe('closed')
    expect(nextStatus(awaiting, 'ceremony_attended', 'hub')).toBe('closed')
    const refused = nextStatus(decided, 'royal_decree_refused', 'hub', natCtx)
    expect(refused).toBe('decided')
    expect(nextStatus(refused, 'close', 'hub')).toBe('closed')
  })
})
