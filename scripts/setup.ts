// Prepares a deployment: checks PostgreSQL and Redis, migrates, then either ensures the bootstrap
// admin key (BOOTSTRAP_ADMIN_TOKEN set) or seeds the demo region on an empty database. Run by
// `npm start` before the processes start, and as the one-shot `setup` service in docker-compose.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig, type Config } from '../api/config.js'
import { createDb } from '../api/db/database.js'
import { ensureAdminKey } from '../api/tenancy/tenancy.service.js'
import { dutchDate } from '../api/time.js'
import { migrate } from './migrate.js'
import { SAMPLE_DOCUMENTS, samplePdf } from './demo/sample-pdf.js'
import { checkPostgres, checkRedis } from './preflight.js'
import { isEmpty, seedDemo, seedDemoWorkday, type DemoRegion } from './seed.js'

const DEMO_FILE = join(process.cwd(), '.data', 'demo-keys.json')
/** The sample documents of the README walk (demo PDFs, no real person's data). */
const SAMPLE_DIR = join(process.cwd(), '.data', 'demo')

export function printDemo(demo: DemoRegion, config: Config): void {
  const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`
  const member = demo.members[0]!
  console.log(`
Regiobalie demo region (keys also in ${DEMO_FILE}; keep them private)
  platform admin        ${demo.adminKey}
  hub ${demo.hub.name.padEnd(17)} ${demo.hub.key}   (tenant ${demo.hub.id})
${demo.members.map((m) => `  member ${m.name.padEnd(14)} ${m.key}   (tenant ${m.id})`).join('\n')}
  hub lead              ${demo.lead.key}   (staff ${demo.lead.id})
  hub specialist        ${demo.specialist.key}   (staff ${demo.specialist.id})
  sample documents      ${Object.keys(SAMPLE_DOCUMENTS).map((name) => join(SAMPLE_DIR, name)).join(', ')}

Try:  curl -s -H "Authorization: Bearer ${member.key}" ${base}/v1/tenants/${member.id}/agreements
Walk: README.md "A walk through the roles" (member, lead, specialist, admin)
Docs: ${base}/docs
Workbench: ${base}/app/inloggen  (sign in with a key above: member = its desk, hub lead, hub specialist, platform admin)
`)
}

function writeSamplePdfs(): void {
  mkdirSync(SAMPLE_DIR, { recursive: true })
  for (const [name, lines] of Object.entries(SAMPLE_DOCUMENTS)) writeFileSync(join(SAMPLE_DIR, name), samplePdf(lines))
}

/** Prepares the deployment; returns the demo region to show, if there is one. */
export async function prepare(config: Config): Promise<DemoRegion | null> {
  const problems = (await Promise.all([checkPostgres(config.databaseUrl), checkRedis(config.redisUrl)])).filter(Boolean)
  if (problems.length > 0) {
    for (const p of problems) console.error(`regiobalie: ${p}`)
    process.exit(1)
  }
  const applied = await migrate(config.databaseUrl, config.appDatabaseUrl)
  console.log(applied.length ? `regiobalie: migrated ${applied.join(', ')}` : 'regiobalie: database is up to date')
  const db = createDb(config.appDatabaseUrl, { max: 2, applicationName: 'regiobalie-start' })
  try {
    if (config.bootstrapAdminToken) {
      await ensureAdminKey(db, config.bootstrapAdminToken)
      console.log('regiobalie: BOOTSTRAP_ADMIN_TOKEN is set; the admin key exists, nothing seeded')
    } else if (await isEmpty(db)) {
      const demo = await seedDemo(db, `${dutchDate().slice(0, 4)}-01-01`)
      await seedDemoWorkday(db, demo, dutchDate())
      mkdirSync(dirname(DEMO_FILE), { recursive: true })
      writeFileSync(DEMO_FILE, JSON.stringify(demo, null, 2), { mode: 0o600 })
      chmodSync(DEMO_FILE, 0o600)
      writeSamplePdfs()
      return demo
    } else if (existsSync(DEMO_FILE)) {
      writeSamplePdfs()
      return JSON.parse(readFileSync(DEMO_FILE, 'utf8')) as DemoRegion
    } else {
      console.log('regiobalie: the database has tenants already; no demo seeded')
    }
    return null
  } finally {
    await db.destroy()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const config = loadConfig()
  prepare(config)
    .then((demo) => demo && printDemo(demo, config))
    .catch((err: unknown) => {
      console.error(`regiobalie: setup failed: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    })
}
