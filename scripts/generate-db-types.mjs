// api/db/schema.gen.ts from the migrated schema (STYLE.md §8, §23): migrates a scratch database on
// the local PostgreSQL with the project's migrations, runs kysely-codegen against it, drops it.
//   node scripts/generate-db-types.mjs [out-file]     (default api/db/schema.gen.ts)
// The type mapping follows api/db/database.ts: int8 is parsed to a (safe) number, date stays a
// 'YYYY-MM-DD' string. A text column whose CHECK lists its values (`col in ('a', 'b')`) gets that
// union, read from the catalogue, so the enumerations too have one source: the migrations. jsonb
// columns get the shape the code stores, from api/db/column-types.ts (inserted as JSON text). A
// few text columns hold the codes of a domain list without a CHECK (the list changes with the
// rules, not with a migration): they take the domain's type, so a write of anything else fails to
// compile and a read needs no cast. Money (int8 `…_cents` columns) reads as a number — the int8
// parser refuses anything outside the safe integers — and is written as a bigint or a decimal
// string, never a JS number, so a float cannot reach a money column through the query builder.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Kysely, Migrator, PostgresDialect } from 'kysely'
import pg from 'pg'
import ts from 'typescript'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outFile = process.argv[2] ?? join(root, 'api', 'db', 'schema.gen.ts')
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** jsonb column → [type name in api/db/column-types.ts, whether stored as JSON text on write]. */
const JSON_COLUMNS = {
  'cases.subject': 'CaseSubjectJson',
  'document_reviews.findings': 'ReviewFindingJson[]',
  'idempotency_keys.response_headers': 'Record<string, string>',
  'outbox.payload': 'unknown',
  'locations.address': 'LocationAddressJson',
  'webhook_deliveries.event': 'WebhookEventJson',
}
/** Text columns that hold a domain list's codes → that list's type. */
const DOMAIN_COLUMNS = {
  'cases.status': 'CaseStatus',
  'case_events.from_status': 'CaseStatus',
  'case_events.to_status': 'CaseStatus',
  'cases.case_type': 'CaseTypeCode',
  'agreements.case_type': 'CaseTypeCode',
  'staff.skills': 'CaseTypeCode[]',
  'cases.ipr_matter': 'IprMatter',
  'documents.kind': 'DocumentKind',
  'case_checklist_items.document_kind': 'DocumentKind',
  'api_keys.scopes': 'Scope[]',
  'access_log.action': 'AccessAction',
  'access_log.actor_kind': 'AccessActorKind',
}
const IMPORTS = {
  CaseSubjectJson: './column-types.js',
  ReviewFindingJson: './column-types.js',
  LocationAddressJson: './column-types.js',
  WebhookEventJson: './column-types.js',
  AccessAction: './column-types.js',
  AccessActorKind: './column-types.js',
  CaseStatus: '../domain/case-state.js',
  CaseTypeCode: '../domain/case-types.js',
  IprMatter: '../domain/case-types.js',
  DocumentKind: '../domain/document-kinds.js',
  Scope: '../domain/scopes.js',
}

// The rb_test_<unix seconds>_ name lets the test set-up clean it up should this script be killed.
const scratch = `rb_test_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
const urlOf = (name) => {
  const u = new URL(serverUrl)
  u.pathname = `/${name}`
  return u.toString()
}

/** The migrations are TypeScript that imports only kysely: transpiled (no type check) next to node_modules. */
function compiledMigrations() {
  const dir = join(root, 'node_modules', '.cache', 'regiobalie-db-types', 'migrations')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const file of readdirSync(join(root, 'migrations')).filter((f) => f.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(root, 'migrations', file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    })
    writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), outputText)
  }
  return join(dir, 'index.js')
}

const quote = (v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/** Column overrides: CHECK-listed values as unions, jsonb as its stored shape. */
async function overridesOf(client) {
  const { rows: columns } = await client.query(`
    select table_name, column_name, data_type, is_nullable = 'YES' as nullable, column_default is not null or is_identity = 'YES' as generated
    from information_schema.columns where table_schema = 'public'`)
  const column = new Map(columns.map((c) => [`${c.table_name}.${c.column_name}`, c]))
  const { rows: checks } = await client.query(`
    select c.conrelid::regclass::text as table_name, pg_get_constraintdef(c.oid) as def
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
    where c.contype = 'c' and n.nspname = 'public'`)
  const overrides = {}
  const wrap = (path, select, write) => {
    const c = column.get(path)
    if (!c) throw new Error(`${path}: no such column`)
    const n = c.nullable ? ' | null' : ''
    const type = write === undefined ? `${select}${n}` : `ColumnType<${select}${n}, ${write}${n}, ${write}${n}>`
    overrides[path] = c.generated ? `Generated<${type}>` : type
  }
  for (const { table_name, def } of checks) {
    // Stored by PostgreSQL as CHECK ((col = ANY (ARRAY['a'::text, 'b'::text]))).
    const m = /^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$/.exec(def)
    if (!m) continue
    const values = [...m[2].matchAll(/'((?:[^']|'')*)'::text/g)].map((v) => v[1].replace(/''/g, "'"))
    wrap(`${table_name}.${m[1]}`, values.sort().map(quote).join(' | '))
  }
  for (const [path, type] of Object.entries(DOMAIN_COLUMNS)) {
    if (overrides[path]) throw new Error(`${path} has a CHECK list; it needs no domain type`)
    wrap(path, type)
  }
  for (const [path, type] of Object.entries(JSON_COLUMNS)) wrap(path, type, 'string')
  for (const c of columns) {
    if (c.data_type === 'bigint' && c.column_name.endsWith('_cents')) wrap(`${c.table_name}.${c.column_name}`, 'number', 'bigint | string')
  }
  return overrides
}

async function main() {
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`create database ${scratch}`)
  try {
    const { migrations } = await import(pathToFileURL(compiledMigrations()).href)
    const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: urlOf(scratch), max: 1 }) }) })
    try {
      const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true }).migrateToLatest()
      if (error) throw error
    } finally {
      await db.destroy()
    }
    const client = new pg.Client({ connectionString: urlOf(scratch) })
    await client.connect()
    let overrides
    try {
      overrides = await overridesOf(client)
    } finally {
      await client.end()
    }
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'kysely-codegen', 'dist', 'cli', 'bin.js'),
        '--dialect', 'postgres',
        '--url', urlOf(scratch),
        '--out-file', outFile,
        '--date-parser', 'string',
        '--type-mapping', JSON.stringify({ int8: 'number' }),
        '--custom-imports', JSON.stringify(IMPORTS),
        '--overrides', JSON.stringify({ columns: overrides }),
        '--exclude-pattern', 'kysely_migration*',
        '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    const generated = readFileSync(outFile, 'utf8')
    writeFileSync(
      outFile,
      '// Generated by scripts/generate-db-types.mjs (kysely-codegen) from the migrated schema. Do not edit:\n' +
        '// change a migration and run `npm run generate`; lint fails when this file is out of date.\n' +
        generated,
    )
  } finally {
    await admin.query(`drop database if exists ${scratch} with (force)`)
    await admin.end()
  }
}

main().catch((err) => {
  console.error(`generate-db-types: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
