import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertUnprivilegedRole, createDb } from '../../api/db/database.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'

let database: TestDatabase
beforeAll(async () => {
  database = await createTestDatabase()
})
afterAll(async () => database.drop())

describe('the application role', () => {
  it('is neither superuser, owner nor BYPASSRLS, and the start-up check agrees', async () => {
    const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>`
      select r.rolsuper, r.rolbypassrls,
        (select count(*)::int from pg_tables t where t.schemaname = 'public' and t.tableowner = current_user) as owned
      from pg_roles r where r.rolname = current_user`.execute(database.db)
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 })
    await expect(assertUnprivilegedRole(database.db)).resolves.toBeUndefined()
  })

  it('is refused by the start-up check when it is a superuser', async () => {
    const superDb = createDb(database.ownerUrl, { max: 1 })
    try {
      await expect(assertUnprivilegedRole(superDb)).rejects.toThrow(/row-level security would be off/)
    } finally {
      await superDb.destroy()
    }
  })

  it('works on tables that all have ENABLE and FORCE row level security', async () => {
    const { rows } = await sql<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>`
      select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r' and c.relname not like 'kysely_%'`.execute(database.owner)
    expect(rows.length).toBeGreaterThan(0)
    for (const r of rows) expect(r, r.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true })
  })
})
