// Throwaway servers for the fault tests (issue 9). The shared PostgreSQL on 5432 and Redis on 6379
// are never touched: each test starts its own on a free port, restarts, stops or freezes it, and
// removes it again. Processes are ended by their own pid only.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface RedisServer {
  port: number
  url: string
  /** SIGKILL and start again on the same port with no data at all. */
  restartEmpty(downMs?: number): Promise<void>
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort()
  let child: ChildProcess | null = null
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' })
    for (let i = 0; i < 100; i += 1) {
      try {
        execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' })
        return
      } catch {
        await sleep(50)
      }
    }
    throw new Error('throwaway redis-server did not start')
  }
  const kill = async () => {
    const c = child
    if (!c || c.exitCode !== null) return
    const exited = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async restartEmpty(downMs = 500) {
      await kill()
      await sleep(downMs)
      await start()
    },
    stop: kill,
  }
}

export interface PostgresServer {
  port: number
  /** The owner's URL of a database on this server. */
  url(database: string, user?: string, password?: string): string
  /** `pg_ctl restart -m fast`; resolves once PostgreSQL accepts connections again. */
  restart(): Promise<void>
  /** SIGSTOP (true) or SIGCONT (false) the postmaster and every backend: a hung server. */
  freeze(on: boolean): void
  stop(): Promise<void>
}

const pgBin = (): string => {
  const root = '/usr/lib/postgresql'
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a))
  if (versions.length === 0) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql')
  return join(root, versions[0]!, 'bin')
}

/** initdb refuses root: run the server tools as the postgres user then. */
const serverUserArgv = (cmd: string, args: string[]): [string, string[]] =>
  process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]
const asServerUser = (cmd: string, args: string[]): string => {
  const [file, argv] = serverUserArgv(cmd, args)
  return execFileSync(file, argv, { stdio: 'pipe', encoding: 'utf8' })
}
/** The same without blocking the event loop: the load keeps running while PostgreSQL restarts. */
const asServerUserAsync = async (cmd: string, args: string[]): Promise<void> => {
  const [file, argv] = serverUserArgv(cmd, args)
  await promisify(execFile)(file, argv)
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = pgBin()
  const port = await freePort()
  const root = mkdtempSync(join(tmpdir(), 'rb-fault-pg-'))
  chmodSync(root, 0o755)
  const data = join(root, 'data')
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    chownSync(root, uid, gid)
  }
  asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const opts = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=60`
  const ctlArgs = (args: string[]) => ['-D', data, '-o', opts, '-l', join(root, 'log'), '-w', '-t', '30', ...args]
  const ctl = (...args: string[]) => asServerUser(join(bin, 'pg_ctl'), ctlArgs(args))
  ctl('start')
  const pids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
    return [postmaster, ...children]
  }
  const server: PostgresServer = {
    port,
    url: (database, user = 'postgres', password = '') => `postgres://${user}${password ? `:${password}` : ''}@127.0.0.1:${port}/${database}`,
    async restart() {
      await asServerUserAsync(join(bin, 'pg_ctl'), ctlArgs(['restart', '-m', 'fast']))
    },
    freeze(on) {
      for (const pid of on ? pids() : pids().reverse()) {
        try {
          process.kill(pid, on ? 'SIGSTOP' : 'SIGCONT')
        } catch {
          // a backend that ended meanwhile
        }
      }
    },
    async stop() {
      try {
        server.freeze(false)
        ctl('stop', '-m', 'immediate')
      } finally {
        rmSync(root, { recursive: true, force: true })
      }
    },
  }
  return server
}
