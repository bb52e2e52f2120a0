// `npm start`: checks PostgreSQL and Redis, migrates, seeds the demo region (or ensures the
// bootstrap admin key), then runs the API and the workers as two processes until Ctrl-C / SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig, startEnvironment, type Config } from '../api/config.js'
import { prepare, printDemo } from './setup.js'

const here = dirname(fileURLToPath(import.meta.url))

async function untilHealthy(config: Config, timeoutMs = 60_000): Promise<boolean> {
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}/healthz`
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return true
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return false
}

function run(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [join(here, '..', script)], { stdio: 'inherit', env }).on('error', (err) => {
    console.error(`regiobalie: could not start ${name}: ${err.message}`)
  })
}

async function main(): Promise<void> {
  const env = startEnvironment()
  const config = loadConfig(env)
  const demo = await prepare(config)
  if (config.developmentKeys.length > 0) {
    if (!demo) {
      const names = config.developmentKeys.join(' and ')
      console.error(`regiobalie: ${names} not set, and this database is not the demo's: set ${names} (\`openssl rand -base64 32\`); the fixed development keys are for a demo database only`)
      process.exit(1)
    }
    console.log(`regiobalie: demo database: ${config.developmentKeys.join(' and ')} use the fixed development keys (DEMO_KEYS=on); set your own for real data`)
  }
  const children = new Map<string, ChildProcess>([
    ['api', run('api', 'api/http/server.js', env)],
    ['workers', run('workers', 'workers/main.js', env)],
  ])
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const child of children.values()) if (child.exitCode === null) child.kill(signal)
  }
  process.on('SIGINT', () => stop('SIGTERM'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // The curl line is shown once the API answers, so a newcomer can paste it straight away.
  if (demo) {
    void untilHealthy(config).then((up) => {
      if (up && !stopping) printDemo(demo, config)
    })
  }
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
