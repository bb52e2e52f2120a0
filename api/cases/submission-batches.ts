// Group commit for submissions (issue 13): the submissions of one member that arrive together are
// written by one statement and one commit (repo.submitCases) instead of one of each per request —
// on this kind of machine a statement's round trip costs the API more than the statement costs
// PostgreSQL. Each request still gets its own answer: a submission the batch left out (refused)
// goes through repo.submitCase on its own, which names its refusal exactly as before; should the
// batch fail as a whole, every submission in it is written on its own, so one submission's fault
// fails only its own request. A lone submission is written by repo.submitCase directly.
import { KeyedBatcher, type BatcherOptions, type Outcome } from '../batcher.js'
import type { Db } from '../db/database.js'
import * as repo from './cases.repository.js'

export type SubmitOutcome = Awaited<ReturnType<typeof repo.submitCase>>

/** Each batch holds a pooled connection: four at a time per member leave the pool (10) to the others. */
export const SUBMISSION_BATCHES: BatcherOptions = { maxBatch: 64, maxInFlightPerKey: 4 }

const alone = (db: Db, s: repo.Submission): Promise<Outcome<SubmitOutcome>> =>
  repo.submitCase(db, s).then(
    (value): Outcome<SubmitOutcome> => ({ ok: true, value }),
    (error: unknown): Outcome<SubmitOutcome> => ({ ok: false, error }),
  )

/** The submissions of one member (one key of the batcher), one outcome each, in their order. */
export async function submitTogether(db: Db, submissions: readonly repo.Submission[]): Promise<Outcome<SubmitOutcome>[]> {
  const [first] = submissions
  if (!first) return []
  if (submissions.length === 1) return [await alone(db, first)]
  let written: Map<string, repo.CaseRow>
  try {
    written = new Map((await repo.submitCases(db, first, submissions)).map((c) => [c.id, c]))
  } catch {
    // Rolled back as a whole: each submission on its own, so only a faulty one fails.
    return Promise.all(submissions.map((s) => alone(db, s)))
  }
  return Promise.all(
    submissions.map((s): Promise<Outcome<SubmitOutcome>> => {
      const c = written.get(s.caseId)
      return c ? Promise.resolve({ ok: true, value: { case: c } }) : alone(db, s)
    }),
  )
}

const perDatabase = new WeakMap<Db, KeyedBatcher<repo.Submission, SubmitOutcome>>()

/** Writes the submission together with the others of its member that arrive at the same time. */
export function submitInBatch(db: Db, s: repo.Submission): Promise<SubmitOutcome> {
  let batcher = perDatabase.get(db)
  if (!batcher) {
    batcher = new KeyedBatcher((_key, items) => submitTogether(db, items), SUBMISSION_BATCHES)
    perDatabase.set(db, batcher)
  }
  // A member's tenant and region: the scope submit_cases sets for all of the batch.
  return batcher.add(`${s.tenantId}/${s.regionId ?? ''}`, s)
}
