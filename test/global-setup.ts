// Once per test run: check the services answer, then build a freshly migrated template database.
// Each test file clones it (CREATE DATABASE … TEMPLATE), which takes a fraction of a second.
import pg from 'pg'
import { checkPostgres, checkRedis } from '../scripts/preflight.js'
import { migrate } from '../scripts/migrate.js'
import { build } from './e2e/helpers.js'
import { APP_PASSWORD, APP_USER, databaseUrl, OWNER_SERVER_URL, REDIS_URL, TEMPLATE_DB } from './helpers/env.js'

export default async function setup(): Promise<void> {
  const problems = (await Promise.all([checkPostgres(OWNER_SERVER_URL), checkRedis(REDIS_URL)])).filter(Boolean)
  if (problems.length > 0) throw new Error(problems.join('\n'))
  const client = new pg.Client({ connectionString: OWNER_SERVER_URL })
  await client.connect()
  try {
    // Leftovers of an interrupted run.
    const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'rb_test_%'")
    for (const r of rows) await client.query(`drop database if exists "${r.datname}" with (force)`)
    await client.query(`drop database if exists ${TEMPLATE_DB} with (force)`)
  } finally {
    await client.end()
  }
  await migrate(databaseUrl(TEMPLATE_DB), databaseUrl(TEMPLATE_DB, APP_USER, APP_PASSWORD))
  // End-to-end tests run the compiled processes; build them once for the whole run.
  build()
}
