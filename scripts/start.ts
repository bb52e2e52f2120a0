// `npm start`: checks PostgreSQL and Redis, migrates, seeds the demo region (or ensures the
// bootstrap admin key), then runs the API and the workers as two processes until Ctrl-C / SIGTERM;
// a child that crashes is restarted with backoff (and logged), the rest keeps running.
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

/** Backoff between restarts of a crashed child: 1 s, 2 s, 4 s … at most 30 s; reset after a minute up. */
const restartDelayMs = (crashesInARow: number): number => Math.min(1_000 * 2 ** Math.max(0, crashesInARow - 1), 30_000)
const STABLE_AFTER_MS = 60_000

/**
 * Runs one child and keeps it running (issue 9): when it exits without being asked to, the
 * supervisor logs it and starts it again after a backoff, instead of stopping the platform.
 */
class Supervised {
  child: ChildProcess | null = null
  private crashes = 0
  private timer: NodeJS.Timeout | null = null
  private stopping = false
  private finished: () => void = () => undefined
  readonly done = new Promise<void>((resolve) => (this.finished = resolve))

  constructor(
    private readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(): void {
    const startedAt = Date.now()
    const child = spawn(process.execPath, [join(here, '..', this.script)], { stdio: 'inherit', env: this.env })
    this.child = child
    console.error(`regiobalie: ${this.name} started (pid ${child.pid ?? '?'})`)
    child.on('error', (err) => console.error(`regiobalie: could not start ${this.name}: ${err.message}`))
    child.on('exit', (code, signal) => {
      this.child = null
      if (this.stopping) return this.finished()
      if (Date.now() - startedAt > STABLE_AFTER_MS) this.crashes = 0
      this.crashes += 1
      const delay = restartDelayMs(this.crashes)
      console.error(
        `regiobalie: ${this.name} stopped unexpectedly (${signal ? `signal ${signal}` : `exit ${code ?? '?'}`}); ` +
          `restarting in ${Math.round(delay / 1000)} s (crash ${this.crashes} in a row)`,
      )
      this.timer = setTimeout(() => {
        this.timer = null
        if (!this.stopping) this.start()
      }, delay)
    })
  }

  stop(signal: NodeJS.Signals): void {
    this.stopping = true
    if (this.timer) clearTimeout(this.timer)
    if (this.child && this.child.exitCode === null) this.child.kill(signal)
    else this.finished()
  }
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
  const children = [new Supervised('api', 'api/http/server.js', env), new Supervised('workers', 'workers/main.js', env)]
  for (const c of children) c.start()
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    stopping = true
    for (const c of children) c.stop(signal)
  }
  process.on('SIGINT', () => stop('SIGTERM'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // The curl line is shown once the API answers, so a newcomer can paste it straight away.
  if (demo) {
    void untilHealthy(config).then((up) => {
      if (up && !stopping) printDemo(demo, config)
    })
  }
  await Promise.all(children.map((c) => c.done))
  process.exit(0)
}

main().catch((err: unknown) => {
  console.error(`regiobalie: could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
