// Row-level security, proven directly in SQL as the application role: the backstop behind the
// service-layer checks (ARCHITECTURE.md, "Tenancy"). Then 2,000 interleaved HTTP requests of two
// tenants over a small pool, none of which may see a row of the other tenant.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertUnprivilegedRole, withAdmin, withTenant, type Db, type TenantScope } from '../../api/db/database.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'
import { call, expectOk, newStaff } from '../helpers/tenancy-builders.js'

const TENANCY_TABLES = ['regions', 'tenants', 'staff', 'api_keys', 'agreements'] as const

/** Every table of the public schema that has row-level security: the tenant-owned ones. */
const protectedTables = async (owner: TestDatabase['owner']): Promise<Array<{ name: string; forced: boolean }>> => {
  const { rows } = await sql<{ name: string; forced: boolean }>`
    select c.relname as name, c.relforcerowsecurity as forced
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relrowsecurity
    order by c.relname`.execute(owner)
  return rows
}

/** Rows of a table the executor (the pool or a transaction, as the app role) can see. */
const countAs = async (db: Db, table: string): Promise<number> => {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)
  return rows[0]!.n
}
const ownerCount = async (database: TestDatabase, table: string): Promise<number> => {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(database.owner)
  return rows[0]!.n
}
const affected = (result: { numAffectedRows?: bigint }): number => Number(result.numAffectedRows ?? 0n)

describe('row-level security in SQL (as the application role, one pooled connection)', () => {
  let database: TestDatabase
  let a: RegionFixture
  let b: RegionFixture
  let hubA: TenantScope
  let memberA: TenantScope

  beforeAll(async () => {
    database = await createTestDatabase(1)
    a = await newRegion(database.db)
    b = await newRegion(database.db)
    hubA = { tenantId: a.hub.id, regionId: a.regionId }
    memberA = { tenantId: a.members[0].id, regionId: a.regionId }
  })
  afterAll(async () => database.drop())

  it('the app role is no superuser, owner or BYPASSRLS, every protected table FORCEs RLS, and it cannot switch RLS off', async () => {
    await expect(assertUnprivilegedRole(database.db)).resolves.toBeUndefined()
    const tables = await protectedTables(database.owner)
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining([...TENANCY_TABLES]))
    expect(tables.filter((t) => !t.forced)).toEqual([])
    await expect(
      database.db.transaction().execute(async (trx) => {
        await sql`set local row_security = off`.execute(trx)
        return sql`select * from staff`.execute(trx)
      }),
    ).rejects.toThrow(/row-level security/)
  })

  it('a hub transaction sees its own staff, agreements and keys, never those of another hub', async () => {
    const seen = await withTenant(database.db, hubA, async (trx) => ({
      staff: (await sql<{ hub_tenant_id: string }>`select hub_tenant_id from staff`.execute(trx)).rows,
      agreements: (await sql<{ hub_tenant_id: string }>`select hub_tenant_id from agreements`.execute(trx)).rows,
      keys: (await sql<{ tenant_id: string }>`select tenant_id from api_keys`.execute(trx)).rows,
      bStaff: (await sql`select * from staff where hub_tenant_id = ${b.hub.id} or id = ${b.lead.id}`.execute(trx)).rows,
      bAgreements: (await sql`select * from agreements where hub_tenant_id = ${b.hub.id} or member_tenant_id = ${b.members[0].id}`.execute(trx)).rows,
      bKeys: (await sql`select * from api_keys where tenant_id in (${b.hub.id}, ${b.members[0].id})`.execute(trx)).rows,
      bTenants: (await sql`select * from tenants where region_id = ${b.regionId}`.execute(trx)).rows,
      regions: (await sql<{ id: string }>`select id from regions`.execute(trx)).rows,
    }))
    expect(seen.staff.length).toBe(2)
    expect(seen.staff.every((r) => r.hub_tenant_id === a.hub.id)).toBe(true)
    expect(seen.agreements.length).toBe(8)
    expect(seen.agreements.every((r) => r.hub_tenant_id === a.hub.id)).toBe(true)
    // Its own client key and the personal keys of its two staff members.
    expect(seen.keys.length).toBe(3)
    expect(seen.keys.every((r) => r.tenant_id === a.hub.id)).toBe(true)
    expect({ bStaff: seen.bStaff, bAgreements: seen.bAgreements, bKeys: seen.bKeys, bTenants: seen.bTenants }).toEqual({
      bStaff: [],
      bAgreements: [],
      bKeys: [],
      bTenants: [],
    })
    expect(seen.regions.map((r) => r.id)).toEqual([a.regionId])
    // Behind RLS the rows are there.
    expect(await ownerCount(database, 'staff')).toBe(4)
    expect(await ownerCount(database, 'agreements')).toBe(16)
  })

  it('a member transaction sees its own agreements and keys only, not those of the other member of its region', async () => {
    const seen = await withTenant(database.db, memberA, async (trx) => ({
      agreements: (await sql<{ member_tenant_id: string }>`select member_tenant_id from agreements`.execute(trx)).rows,
      keys: (await sql<{ tenant_id: string }>`select tenant_id from api_keys`.execute(trx)).rows,
      staff: await countAs(trx, 'staff'),
    }))
    expect(seen.agreements.length).toBe(4)
    expect(seen.agreements.every((r) => r.member_tenant_id === a.members[0].id)).toBe(true)
    expect(seen.keys).toEqual([{ tenant_id: a.members[0].id }])
    expect(seen.staff).toBe(0)
  })

  it('with no tenant set, the app role sees no row of any tenant-owned table', async () => {
    for (const { name } of await protectedTables(database.owner)) {
      const outside = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(database.db).then(
        (r) => r.rows[0]!.n,
        (err: { code?: string }) => (err.code === '42501' ? 0 : Promise.reject(err as Error)),
      )
      const inTransaction = await database.db
        .transaction()
        .execute((trx) => sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(trx))
        .then(
          (r) => r.rows[0]!.n,
          (err: { code?: string }) => (err.code === '42501' ? 0 : Promise.reject(err as Error)),
        )
      expect({ name, outside, inTransaction }).toEqual({ name, outside: 0, inTransaction: 0 })
    }
    for (const table of TENANCY_TABLES) expect(await ownerCount(database, table), table).toBeGreaterThan(0)
    // An empty tenant setting is "no tenant" too.
    const empty = await database.db.transaction().execute(async (trx) => {
      await sql`select set_config('app.tenant_id', '', true), set_config('app.admin', 'off', true)`.execute(trx)
      return countAs(trx, 'staff')
    })
    expect(empty).toBe(0)
  })

  it('a tenant cannot insert a staff row for another hub, nor move its own staff there', async () => {
    await expect(
      withTenant(database.db, hubA, (trx) =>
        sql`insert into staff (hub_tenant_id, name, email, role) values (${b.hub.id}, 'Mol', 'mol@hub.invalid', 'lead')`.execute(trx),
      ),
    ).rejects.toThrow(/row-level security/)
    await expect(
      withTenant(database.db, hubA, (trx) => sql`update staff set hub_tenant_id = ${b.hub.id} where id = ${a.specialist.id}`.execute(trx)),
    ).rejects.toThrow(/row-level security/)
    const { rows } = await sql<{ hub_tenant_id: string }>`select hub_tenant_id from staff where email = 'mol@hub.invalid' or id = ${a.specialist.id}`.execute(
      database.owner,
    )
    expect(rows).toEqual([{ hub_tenant_id: a.hub.id }])
  })

  it('a tenant cannot issue keys other than personal keys of its own staff', async () => {
    const hash = (n: number) => Buffer.alloc(32, n)
    await expect(
      withTenant(database.db, hubA, (trx) =>
        sql`insert into api_keys (kind, tenant_id, staff_id, name, prefix, secret_hash, scopes)
          values ('staff', ${b.hub.id}, ${b.lead.id}, 'x', 'rbk_s_x', ${hash(1)}, '{cases:read}')`.execute(trx),
      ),
    ).rejects.toThrow(/row-level security/)
    await expect(
      withTenant(database.db, hubA, (trx) =>
        sql`insert into api_keys (kind, tenant_id, staff_id, name, prefix, secret_hash, scopes)
          values ('client', ${a.hub.id}, null, 'x', 'rbk_c_x', ${hash(2)}, '{tenants:admin}')`.execute(trx),
      ),
    ).rejects.toThrow(/row-level security/)
    await expect(
      withTenant(database.db, memberA, (trx) =>
        sql`insert into agreements (hub_tenant_id, member_tenant_id, case_type, tariff_cents, valid_from)
          values (${a.hub.id}, ${a.members[0].id}, 'naturalisation', 0, '2020-01-01')
          on conflict (member_tenant_id, case_type) do update set tariff_cents = 0`.execute(trx),
      ),
    ).rejects.toThrow(/row-level security/)
  })

  it('a tenant updates or deletes 0 rows of another tenant (and cannot change tenants or keys at all)', async () => {
    const changed = await withTenant(database.db, hubA, async (trx) => ({
      staff: affected(await sql`update staff set name = 'gekaapt' where hub_tenant_id = ${b.hub.id}`.execute(trx)),
      agreements: affected(await sql`update agreements set tariff_cents = 1 where hub_tenant_id = ${b.hub.id}`.execute(trx)),
      deleted: affected(await sql`delete from agreements where member_tenant_id = ${b.members[0].id}`.execute(trx)),
      otherTenant: affected(await sql`update tenants set status = 'suspended' where id = ${b.hub.id}`.execute(trx)),
      ownTenant: affected(await sql`update tenants set role = 'member' where id = ${a.hub.id}`.execute(trx)),
      otherKeys: affected(await sql`update api_keys set revoked_at = now() where tenant_id = ${b.hub.id}`.execute(trx)),
      ownKeys: affected(await sql`update api_keys set scopes = '{tenants:admin}' where tenant_id = ${a.hub.id}`.execute(trx)),
    }))
    expect(changed).toEqual({ staff: 0, agreements: 0, deleted: 0, otherTenant: 0, ownTenant: 0, otherKeys: 0, ownKeys: 0 })
    const { rows } = await sql<{ n: number }>`
      select (select count(*) from staff where name = 'gekaapt')
           + (select count(*) from agreements where tariff_cents = 1)
           + (select count(*) from tenants where status <> 'active' or (id = ${a.hub.id} and role <> 'hub'))
           + (select count(*) from api_keys where revoked_at is not null or 'tenants:admin' = any(scopes) and tenant_id is not null) as n`.execute(database.owner)
    expect(Number(rows[0]!.n)).toBe(0)
    // Its own rows it may change.
    const own = await withTenant(database.db, hubA, async (trx) => affected(await sql`update staff set name = name where hub_tenant_id = ${a.hub.id}`.execute(trx)))
    expect(own).toBe(2)
  })

  it('the tenant setting does not leak into the next transaction or query on the same connection', async () => {
    const pid = async (db: Db) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid
    const state = () =>
      database.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ tenant: string | null; admin: string | null; staff: number; pid: number }>`
          select current_setting('app.tenant_id', true) as tenant, current_setting('app.admin', true) as admin,
                 (select count(*)::int from staff) as staff, pg_backend_pid() as pid`.execute(trx)
        return rows[0]!
      })
    const pids = new Set<number>()
    pids.add(await withTenant(database.db, hubA, async (trx) => {
      expect(await countAs(trx, 'staff')).toBe(2)
      return pid(trx)
    }))
    const afterTenant = await state()
    expect([null, '']).toContain(afterTenant.tenant)
    expect(afterTenant.staff).toBe(0)
    pids.add(afterTenant.pid)
    // Outside a transaction too.
    expect(await countAs(database.db, 'staff')).toBe(0)
    pids.add(await pid(database.db))

    await withAdmin(database.db, async (trx) => expect(await countAs(trx, 'staff')).toBe(4))
    const afterAdmin = await state()
    expect(afterAdmin.admin).not.toBe('on')
    expect(afterAdmin.staff).toBe(0)

    await expect(
      withTenant(database.db, hubA, async () => {
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect((await state()).staff).toBe(0)

    // The next tenant on the same connection sees its own rows only.
    const bSees = await withTenant(database.db, { tenantId: b.hub.id, regionId: b.regionId }, async (trx) => {
      pids.add(await pid(trx))
      return (await sql<{ hub_tenant_id: string }>`select hub_tenant_id from staff`.execute(trx)).rows
    })
    expect(bSees.length).toBe(2)
    expect(bSees.every((r) => r.hub_tenant_id === b.hub.id)).toBe(true)
    expect(pids.size).toBe(1)
  })
})

describe('2,000 interleaved requests of two tenants over a pool of 3', () => {
  let t: TestApp
  let database: TestDatabase
  const hubs: Array<{ id: string; leadKey: string; staffIds: string[] }> = []

  beforeAll(async () => {
    database = await createTestDatabase(3)
    t = await startTestApp({}, { database })
    for (const region of [await newRegion(database.db), await newRegion(database.db)]) {
      const extra = [await newStaff(database.db, region.hub.id), await newStaff(database.db, region.hub.id, 'lead'), await newStaff(database.db, region.hub.id)]
      hubs.push({ id: region.hub.id, leadKey: region.lead.key, staffIds: [region.lead.id, region.specialist.id, ...extra.map((s) => s.id)].sort() })
    }
  })
  afterAll(async () => {
    await t.close()
    await database.drop()
  })

  it('never shows a tenant a row of the other tenant', { timeout: 120_000 }, async () => {
    const total = 2_000
    const batch = 40
    let checked = 0
    for (let start = 0; start < total; start += batch) {
      const requests = Array.from({ length: batch }, (_, i) => {
        const hub = hubs[(start + i) % 2]!
        return call(t.app, 'GET', `/v1/tenants/${hub.id}/staff?limit=100`, hub.leadKey).then((res) => ({ hub, res }))
      })
      for (const { hub, res } of await Promise.all(requests)) {
        const items = expectOk<{ items: Array<{ id: string; hubTenantId: string }> }>(res).items
        expect(items.map((s) => s.id).sort()).toEqual(hub.staffIds)
        expect(items.every((s) => s.hubTenantId === hub.id)).toBe(true)
        checked += 1
      }
    }
    expect(checked).toBe(total)
  })
})
