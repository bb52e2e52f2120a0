// Once per test run: check the services answer, then build a freshly migrated template database
// of this run. Each test file clones it (CREATE DATABASE … TEMPLATE), a fraction of a second.
// Runs on one server do not disturb each other: each has its own template, and database names
// carry their creation time, so only idle ones older than two hours are cleaned up as leftovers of
// interrupted runs.
import type { TestProject } from 'vitest/node'
import { checkPostgres, checkRedis } from '../scripts/preflight.js'
import { migrate } from '../scripts/migrate.js'
import { build } from './e2e/helpers.js'
import { APP_PASSWORD, APP_USER, databaseUrl, OWNER_SERVER_URL, REDIS_URL, testDatabaseName, withServer } from './helpers/env.js'

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string
  }
}


export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const problems = (await Promise.all([checkPostgres(OWNER_SERVER_URL), checkRedis(REDIS_URL)])).filter(Boolean)
  if (problems.length > 0) throw new Error(problems.join('\n'))
  await withServer(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `select d.datname from pg_database d
       where d.datname ~ '^rb_(test|tpl)_[0-9]+_'
         and split_part(d.datname, '_', 3)::bigint < extract(epoch from now()) - 7200
         and not exists (select 1 from pg_stat_activity a where a.datname = d.datname)`,
    )
    for (const r of rows) await client.query(`drop database if exists "${r.datname}"`).catch(() => undefined)
  })
  const templateDb = testDatabaseName('tpl')
  await migrate(databaseUrl(templateDb), databaseUrl(templateDb, APP_USER, APP_PASSWORD))
  project.provide('templateDb', templateDb)
  // End-to-end tests run the compiled processes; build them once for the whole run.
  build()
  return async () => {
    await withServer((client) => client.query(`drop database if exists ${templateDb} with (force)`))
  }
}
