// The reference tables in api/domain/data/*.csv are copies of ../shared/data (the project's
// instructions: when shared/data changes, refresh the copy). When that folder sits next to the
// project (the development machines and CI), each copy — less its '#' source header — must equal
// the file it was copied from; elsewhere (a clone on its own) there is nothing to compare with and
// the check passes. The tests never read ../shared: they compare the modules with the copies.
// A table derived from a shared file (a selection, with computed columns) is no copy: it only needs
// its source to exist; its own tests check what it derives.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const shared = join(root, '..', 'shared', 'data')
const copies = join(root, 'api', 'domain', 'data')
/** Derived tables → the shared file they come from (see each file's '#' header). */
const DERIVED = { 'naturalisation_tariffs.csv': 'naturalisation_fees.csv' }

if (!existsSync(shared)) {
  console.log('check-reference-data: no ../shared/data next to the project; nothing to compare')
  process.exit(0)
}
const withoutHeader = (text) => text.split('\n').filter((line) => !line.startsWith('#')).join('\n')
let stale = 0
for (const file of readdirSync(copies).filter((f) => f.endsWith('.csv'))) {
  const from = DERIVED[file] ?? file
  const source = join(shared, from)
  if (!existsSync(source)) {
    console.error(`api/domain/data/${file}: ../shared/data/${from} is gone; the copy names a source that no longer exists`)
    stale += 1
  } else if (DERIVED[file]) {
    continue
  } else if (withoutHeader(readFileSync(join(copies, file), 'utf8')) !== readFileSync(source, 'utf8')) {
    console.error(`api/domain/data/${file} differs from ../shared/data/${file}: copy the new version in (keep the '#' source header) and update the tests it breaks`)
    stale += 1
  }
}
if (stale > 0) process.exit(1)
