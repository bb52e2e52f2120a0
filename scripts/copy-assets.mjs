// tsc compiles TypeScript only; the reference tables (CSV) and the workbench's templates and static
// files must sit next to their compiled modules.
import { cpSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const from = join(root, 'api', 'domain', 'data')
const to = join(root, 'dist', 'api', 'domain', 'data')
for (const file of readdirSync(from).filter((f) => f.endsWith('.csv'))) cpSync(join(from, file), join(to, file))
for (const dir of ['templates', 'static']) {
  cpSync(join(root, 'api', 'web', dir), join(root, 'dist', 'api', 'web', dir), { recursive: true })
}
