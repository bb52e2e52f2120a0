// withTenantOf: a worker's system work for one tenant sets the tenant and its region in one round
// trip (app_enter_tenant, migration 0014), under the tenant's own RLS, for the transaction only.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenantOf } from '../../api/db/database.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { newRegion } from '../helpers/builders.js'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => {
  await database.drop()
})

const settings = (trx: Parameters<Parameters<typeof withTenantOf>[2]>[0]) =>
  sql<{ tenant: string | null; region: string | null }>`
    select nullif(current_setting('app.tenant_id', true), '') as tenant, nullif(current_setting('app.region_id', true), '') as region`
    .execute(trx)
    .then((r) => r.rows[0]!)

describe('withTenantOf', () => {
  it('sets the tenant and its region for the transaction, and sees what the tenant sees', async () => {
    const region = await newRegion(database.db)
    const [member, other] = region.members
    const seen = await withTenantOf(database.db, member.id, async (trx) => ({
      settings: await settings(trx),
      // A member sees the tenants of its region (the region setting), not only itself.
      tenants: (await trx.selectFrom('tenants').select('id').where('id', 'in', [member.id, other.id, region.hub.id]).execute()).length,
    }))
    expect(seen.settings).toEqual({ tenant: member.id, region: region.regionId })
    expect(seen.tenants).toBe(3)
    // Nothing carries over to the next transaction on the pooled connection.
    const after = await database.db.transaction().execute((trx) => settings(trx))
    expect(after).toEqual({ tenant: null, region: null })
  })

  it('sets no region for a tenant it cannot see', async () => {
    const seen = await withTenantOf(database.db, '00000000-0000-4000-8000-00000000dead', (trx) => settings(trx))
    expect(seen).toEqual({ tenant: '00000000-0000-4000-8000-00000000dead', region: null })
  })
})
