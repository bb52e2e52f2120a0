// Fails when a committed generated file differs from what its generator produces now:
// openapi/types.gen.ts from openapi/openapi.yaml, and api/db/schema.gen.ts from the migrated schema
// (a scratch database on the local PostgreSQL, as `npm run generate` makes it).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'regiobalie-gen-'))
const generated = [
  {
    file: join('openapi', 'types.gen.ts'),
    from: 'openapi/openapi.yaml',
    run: (out) => [join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(root, 'openapi', 'openapi.yaml'), '-o', out],
  },
  {
    file: join('api', 'db', 'schema.gen.ts'),
    from: 'the migrations',
    run: (out) => [join(root, 'scripts', 'generate-db-types.mjs'), out],
  },
]
let stale = 0
try {
  for (const { file, from, run } of generated) {
    const fresh = join(dir, file.replace(/[\\/]/g, '_'))
    execFileSync(process.execPath, run(fresh), { stdio: ['ignore', 'ignore', 'inherit'] })
    if (readFileSync(fresh, 'utf8') !== readFileSync(join(root, file), 'utf8')) {
      console.error(`${file} is out of date with ${from}: run \`npm run generate\` and commit the result`)
      stale += 1
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
if (stale > 0) process.exit(1)
