// Fails when a committed generated file differs from what its generator produces now
// (openapi/types.gen.ts from openapi/openapi.yaml).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = mkdtempSync(join(tmpdir(), 'regiobalie-gen-'))
try {
  const fresh = join(dir, 'types.gen.ts')
  execFileSync(process.execPath, [join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), join(root, 'openapi', 'openapi.yaml'), '-o', fresh], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const committed = readFileSync(join(root, 'openapi', 'types.gen.ts'), 'utf8')
  if (readFileSync(fresh, 'utf8') !== committed) {
    console.error('openapi/types.gen.ts is out of date with openapi/openapi.yaml: run `npm run generate` and commit the result')
    process.exit(1)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
