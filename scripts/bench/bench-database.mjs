// A fresh, migrated database with the demo region, for one benchmark run. The server is the one of
// the platform's configuration (api/config.ts); the database is named after the benchmark.
import { join } from 'node:path'
import pg from 'pg'

export const ROOT = new URL('../..', import.meta.url).pathname

export async function freshBenchDatabase(name) {
  const { loadConfig } = await import(join(ROOT, 'dist/api/config.js'))
  const { migrate } = await import(join(ROOT, 'dist/scripts/migrate.js'))
  const { createDb } = await import(join(ROOT, 'dist/api/db/database.js'))
  const { seedDemo } = await import(join(ROOT, 'dist/scripts/seed.js'))
  // A benchmark database is a demo database: the fixed development keys unless set (DEMO_KEYS).
  const config = loadConfig({ DEMO_KEYS: 'on', ...process.env })
  const on = (url, database) => {
    const u = new URL(url)
    u.pathname = `/${database}`
    return u.toString()
  }
  const owner = on(config.databaseUrl, name)
  const app = on(config.appDatabaseUrl, name)
  const admin = new pg.Client({ connectionString: on(config.databaseUrl, 'postgres') })
  await admin.connect()
  await admin.query(`drop database if exists ${name} with (force)`)
  await admin.end()
  await migrate(owner, app)
  const db = createDb(app, { max: 4 })
  const demo = await seedDemo(db, '2020-01-01')
  return { config, owner, app, db, demo }
}
