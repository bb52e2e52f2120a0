// The daily lapse job (API.md "Decisions, decrees and clocks"): a case awaiting its ceremony whose
// Royal Decree (BVVN art. 60b(11)) or option confirmation (art. 60a) was not handed over within the
// year is closed through the state machine with the action `decree_lapsed` — an event, a version and
// an outbox row like every transition. The lapse clock's last day still counts: the case lapses on
// the day after it. Safe to run twice: a case no longer awaiting its ceremony is left alone.
import { clocksOf } from '../api/cases/clocks.js'
import * as repo from '../api/cases/cases.repository.js'
import { applyTransition } from '../api/cases/lifecycle.js'
import { withAdmin, withTenantOf, type Db } from '../api/db/database.js'
import { dutchDate } from '../api/time.js'

const SYSTEM = { kind: 'system' as const, id: 'lapse-job' }

/** The clocks whose passing makes a granted decree or confirmation lapse. */
const LAPSE_CLOCKS: Record<string, string> = {
  royal_decree_lapse: 'the Royal Decree was not handed over within one year of its date (BVVN art. 60b(11))',
  option_confirmation_lapse: 'the option confirmation was not handed over within one year (BVVN art. 60a)',
}

export async function lapseExpiredDecrees(db: Db, today: string = dutchDate()): Promise<number> {
  const candidates = await withAdmin(db, (trx) =>
    trx.selectFrom('cases').select(['id', 'hub_tenant_id']).where('status', '=', 'awaiting_ceremony').execute(),
  )
  let lapsed = 0
  for (const candidate of candidates) {
    const done = await withTenantOf(db, candidate.hub_tenant_id, async (trx) => {
      const c = await repo.lockCase(trx, candidate.id)
      if (!c || c.status !== 'awaiting_ceremony') return false
      const events = await repo.clockEventsOf(trx, [c.id])
      const lapse = clocksOf(c, events, today).find((k) => k.code in LAPSE_CLOCKS && k.dueOn !== null && k.dueOn < today)
      if (!lapse) return false
      await applyTransition(trx, c, { action: 'decree_lapsed', actor: SYSTEM, reason: `decree_lapsed: ${LAPSE_CLOCKS[lapse.code]}; last day ${lapse.dueOn}` })
      return true
    })
    if (done) lapsed++
  }
  return lapsed
}
