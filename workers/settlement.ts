// The settlement queue: one job settles one hub's month (api/settlement/settlement.service.ts). It is
// safe to run twice and resumes where a crashed run stopped: members already settled are skipped.
// It runs SETTLE_LANES batches at once (the pool has connections for them).
import type { Db } from '../api/db/database.js'
import type { JobPayload } from '../api/jobs/registry.js'
import { runSettlement, SETTLE_LANES } from '../api/settlement/settlement.service.js'

export const settle = (db: Db, payload: JobPayload<'settlement', 'settle'>) => runSettlement(db, payload, { lanes: SETTLE_LANES })
