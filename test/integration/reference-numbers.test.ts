// Issue 13: case references come from blocks each API process reserves in a short transaction of
// its own, so a submission never holds the hub's counter lock. Two processes (two pools, two sets
// of blocks) on one database must still never hand out the same reference.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../../api/db/database.js'
import { REFERENCE_BLOCK_SIZE } from '../../api/cases/reference-numbers.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion } from '../helpers/builders.js'
import { submitCase } from '../helpers/case-builders.js'

let a: TestApp
let b: TestApp
let secondPool: Db

beforeAll(async () => {
  a = await startTestApp()
  // A second "process": its own pool, hence its own reference blocks, on the same database.
  secondPool = createDb(a.database.appUrl, { max: 5 })
  b = await startTestApp({}, { database: { ...a.database, db: secondPool } })
})

afterAll(async () => {
  await b.close()
  await secondPool.destroy()
  await a.close()
})

describe('case references from reserved blocks', () => {
  it('are unique across two processes submitting at once', async () => {
    const r = await newRegion(a.database.db)
    const n = 3 * REFERENCE_BLOCK_SIZE
    const created = await Promise.all(
      Array.from({ length: n }, (_, i) => submitCase(i % 2 === 0 ? a.app : b.app, r.members[i % 4 < 2 ? 0 : 1].key)),
    )
    const refs = created.map((c) => c.reference)
    expect(new Set(refs).size).toBe(n)
    for (const ref of refs) expect(ref).toMatch(/^RB-\d{4}-\d{6}$/)
    const { rows } = await sql<{ refs: number; cases: number }>`
      select count(distinct reference)::int as refs, count(*)::int as cases from cases where hub_tenant_id = ${r.hub.id}`.execute(a.database.owner)
    expect(rows[0]).toEqual({ refs: n, cases: n })
  })

  it('reserve whole blocks: the counter moves by the block size, not per case', async () => {
    const r = await newRegion(a.database.db)
    await Promise.all(Array.from({ length: 5 }, () => submitCase(a.app, r.members[0].key)))
    const { rows } = await sql<{ last_value: number }>`
      select last_value from case_reference_counters where hub_tenant_id = ${r.hub.id}`.execute(a.database.owner)
    expect(rows[0]?.last_value).toBe(REFERENCE_BLOCK_SIZE)
  })
})
