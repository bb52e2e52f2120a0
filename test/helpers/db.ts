import { sql, type Kysely } from 'kysely'
import { createDb, type Db } from '../../api/db/database.js'
import { inject } from 'vitest'
import { APP_PASSWORD, APP_USER, databaseUrl, testDatabaseName, withServer } from './env.js'

export interface TestDatabase {
  name: string
  ownerUrl: string
  appUrl: string
  /** Connected as the application role (RLS applies). */
  db: Db
  /** Connected as the owner (superuser here): for checks that look behind RLS. */
  owner: Kysely<unknown>
  drop(): Promise<void>
}


/** A fresh database cloned from the migrated template, for one test file. */
export async function createTestDatabase(poolSize = 5): Promise<TestDatabase> {
  const name = testDatabaseName('test')
  await withServer((c) => c.query(`create database ${name} template ${inject('templateDb')}`))
  const ownerUrl = databaseUrl(name)
  const appUrl = databaseUrl(name, APP_USER, APP_PASSWORD)
  const db = createDb(appUrl, { max: poolSize, applicationName: 'regiobalie-test' })
  const owner = createDb(ownerUrl, { max: 2, applicationName: 'regiobalie-test-owner' }) as unknown as Kysely<unknown>
  return {
    name,
    ownerUrl,
    appUrl,
    db,
    owner,
    async drop() {
      await db.destroy()
      // pg's pool.end() resolves before its sockets are closed; wait for the server to see them
      // gone, or DROP … WITH (FORCE) kills a closing connection and surfaces as an uncaught error.
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and usename <> current_user`.execute(owner)
        if (rows[0]?.n === 0) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await owner.destroy()
      // The same for the owner's own connections, watched from outside: DROP … WITH (FORCE) must
      // not kill a socket that is still closing, or it surfaces as an uncaught error (57P01).
      await withServer(async (c) => {
        for (let i = 0; i < 100; i += 1) {
          const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name])
          if (rows[0]?.n === 0) break
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
        await c.query(`drop database if exists ${name} with (force)`)
      })
    },
  }
}
