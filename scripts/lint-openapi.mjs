// `npm run lint:openapi` (part of `npm run lint`): the contract against the Dutch API Design Rules
// (Spectral with Logius' ADR ruleset, openapi/spectral.yaml) and Redocly's recommended ruleset
// (openapi/redocly.yaml). Both run offline; either one's errors fail the lint, warnings are shown.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const contract = join(root, 'openapi', 'openapi.yaml')
const bin = (name) => join(root, 'node_modules', '.bin', name)
// No usage telemetry and no update check: the lint never needs the network.
const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }

const run = (name, args) =>
  new Promise((resolve) => {
    const child = spawn(bin(name), args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (err) => resolve({ name, code: 1, output: err.message }))
    child.on('close', (code) => resolve({ name, code: code ?? 1, output }))
  })

const results = await Promise.all([
  run('spectral', ['lint', '--quiet', '--ruleset', join(root, 'openapi', 'spectral.yaml'), '--fail-severity', 'error', contract]),
  run('redocly', ['lint', '--config', join(root, 'openapi', 'redocly.yaml'), '--format', 'codeframe', contract]),
])
let failed = false
for (const { name, code, output } of results) {
  // Spectral --quiet prints only findings; Redocly ends with "You have N warnings." when it has some.
  const findings = name === 'spectral' ? output.trim() !== '' : /You have \d+ warnings?/.test(output)
  if (code !== 0 || findings) console.error(`--- ${name} (exit ${code}) ---\n${output.trim()}`)
  if (code !== 0) failed = true
}
if (failed) {
  console.error('openapi/openapi.yaml breaks the ADR or Redocly rules above (see the note at the top of the file)')
  process.exit(1)
}
