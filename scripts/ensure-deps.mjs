// Runs before `npm start` and `npm test` (plain Node, no dependencies): a fresh clone has no
// node_modules, so install exactly the locked versions first.
import { existsSync, statSync } from 'node:fs'
import { execSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const marker = join(root, 'node_modules', '.package-lock.json')
const lock = join(root, 'package-lock.json')
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs
if (stale) {
  console.error('regiobalie: installing the locked dependencies (npm ci) …')
  execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' })
}
