/** The constraint a PostgreSQL unique violation (23505) names, or null for any other error. */
export function uniqueViolation(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null
  const e = err as { code?: unknown; constraint?: unknown }
  return e.code === '23505' && typeof e.constraint === 'string' ? e.constraint : null
}

// SQLSTATE classes and codes that mean "the database is not there right now", not "your query is wrong":
// 08 connection exception, 57P01–57P03 shutdown / cannot connect now, 53300 too many connections,
// 57014 statement timeout (canceled), 40001/40P01 are retried elsewhere and not listed here.
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '57014', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'])
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Client was closed and is not queryable)/

/** True when err says PostgreSQL is away, restarting or hung (answered 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { code?: unknown; message?: unknown; cause?: unknown }
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause)
}
