// `npm start`: checks PostgreSQL and Redis, migrates, seeds the demo region (or ensures the
// bootstrap admin key), then runs the API and the workers as two processes until Ctrl-C / SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../api/config.js'
import { prepare } from './setup.js'

const here = dirname(fileURLToPath(import.meta.url))

function run(name: string, script: string): ChildProcess {
  return spawn(process.execPath, [join(here, '..', script)], { stdio: 'inherit' }).on('error', (err) => {
    console.error(`regiobalie: could not start ${name}: ${err.message}`)
  })
}

async function main(): Promise<void> {
  const config = loadConfig()
  await prepare(config)
  const children = new Map<string, ChildProcess>([
    ['api', run('api', 'api/server.js')],
    ['workers', run('workers', 'workers/main.js')],
  ])
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const child of children.values()) if (child.exitCode === null) child.kill(signal)
  }
  process.on('SIGINT', () => stop('SIGTERM'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  let failed = false
  await Promise.all(
    [...children].map(
      ([name, child]) =>
        new Promise<void>((resolve) =>
          child.on('exit', (code) => {
            if (!stopping) {
              console.error(`regiobalie: ${name} stopped (exit ${code ?? 'signal'}); stopping the rest`)
              failed = true
              stop('SIGTERM')
            }
            resolve()
          }),
        ),
    ),
  )
  process.exit(failed ? 1 : 0)
}

main().catch((err: unknown) => {
  console.error(`regiobalie: could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
