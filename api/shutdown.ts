import type { Logger } from 'pino'

/**
 * SIGTERM and SIGINT (Ctrl-C) run `close` once — finish what is in flight, release connections —
 * then exit 0, or 1 when closing failed.
 */
export function closeOnSignals(logger: Logger, what: string, close: () => Promise<unknown>): void {
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    logger.info({ signal }, `${what} stopping: finishing work in flight`)
    close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, `${what} did not close cleanly`)
        process.exit(1)
      })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}
