// Migrates the database as its owner (DATABASE_URL) and makes sure the application's login role
// (APP_DATABASE_URL) exists as an unprivileged member of regiobalie_app. Creates the database
// itself when it is missing, so a fresh machine needs nothing by hand.
import { pathToFileURL } from 'node:url'
import { Migrator, sql, type Kysely } from 'kysely'
import pg from 'pg'
import { loadConfig, startEnvironment } from '../api/config.js'
import { createDb } from '../api/db/database.js'
import { migrations } from '../migrations/index.js'

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** CREATE DATABASE when it does not exist yet (connecting to the server's `postgres` database). */
export async function ensureDatabase(ownerUrl: string): Promise<void> {
  const target = new URL(ownerUrl)
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''))
  const admin = new URL(ownerUrl)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name])
    if (!rowCount) await client.query(`create database ${quoteIdent(name)}`)
  } finally {
    await client.end()
  }
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  // Feature branches land their migrations in any order (each has its own name), so a database that
  // already ran a later-named one must still take an earlier-named one that lands after it.
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) }, allowUnorderedMigrations: true })
  const { error, results } = await migrator.migrateToLatest()
  if (error) throw error instanceof Error ? error : new Error('migration failed')
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** The login role the API and workers use: member of regiobalie_app, never privileged. */
export async function ensureAppLogin(db: Kysely<unknown>, appUrl: string): Promise<void> {
  const u = new URL(appUrl)
  const user = decodeURIComponent(u.username)
  const password = decodeURIComponent(u.password)
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(user)) throw new Error('APP_DATABASE_URL: the user name must be a plain lower-case identifier')
  const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean }>`select rolsuper, rolbypassrls from pg_roles where rolname = ${user}`.execute(db)
  const existing = rows[0]
  if (existing && (existing.rolsuper || existing.rolbypassrls)) {
    throw new Error(`APP_DATABASE_URL names ${user}, a superuser or BYPASSRLS role; it must be an unprivileged role`)
  }
  const pw = password ? sql` password ${sql.lit(password)}` : sql``
  if (!existing) {
    await sql`create role ${sql.id(user)} login nosuperuser nobypassrls nocreatedb nocreaterole inherit${pw}`.execute(db)
  } else if (password) {
    await sql`alter role ${sql.id(user)} login${pw}`.execute(db)
  }
  await sql`grant regiobalie_app to ${sql.id(user)}`.execute(db)
}

export async function migrate(ownerUrl: string, appUrl: string): Promise<string[]> {
  await ensureDatabase(ownerUrl)
  const db = createDb(ownerUrl, { max: 2, applicationName: 'regiobalie-migrate', statementTimeoutMs: 0 }) as unknown as Kysely<unknown>
  try {
    const applied = await migrateToLatest(db)
    await ensureAppLogin(db, appUrl)
    return applied
  } finally {
    await db.destroy()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Migrations use no secret key: as for `npm start`, missing keys need not stop them.
  const config = loadConfig(startEnvironment())
  migrate(config.databaseUrl, config.appDatabaseUrl)
    .then((applied) => {
      console.log(applied.length ? `migrated: ${applied.join(', ')}` : 'database is up to date')
    })
    .catch((err: unknown) => {
      console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    })
}
