import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The review's integrity thread as built (the check refuses to run on the main thread). */
export const COMPILED_INTEGRITY_THREAD = pathToFileURL(join(ROOT, 'dist', 'api', 'documents', 'integrity-thread.js'))

/** End-to-end tests run the compiled processes, exactly as `npm start` does. */
export function build(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' })
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'copy-assets.mjs')], { stdio: 'inherit' })
}

export interface Proc {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

export function run(script: string, env: Record<string, string>, cwd = ROOT): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'dist', script)], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe().catch(() => undefined)
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export const freePort = async (): Promise<number> => {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}
