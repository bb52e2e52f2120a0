/** The constraint a PostgreSQL unique violation (23505) names, or null for any other error. */
export function uniqueViolation(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null
  const e = err as { code?: unknown; constraint?: unknown }
  return e.code === '23505' && typeof e.constraint === 'string' ? e.constraint : null
}
