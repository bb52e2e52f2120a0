import { pino, type Logger, type LoggerOptions } from 'pino'

// Personal data never reaches a log line (ARCHITECTURE.md, privacy). Fields that hold it are
// censored wherever they appear up to four levels deep; secrets likewise.
const SENSITIVE_FIELDS = [
  'bsn',
  'givenNames',
  'surname',
  'name',
  'dateOfBirth',
  'subject',
  'email',
  'key',
  'secret',
  'token',
  'password',
  'authorization',
  'cookie',
  'content',
  'bytes',
]

const redactPaths = (): string[] => {
  const paths: string[] = []
  for (const field of SENSITIVE_FIELDS) {
    paths.push(field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`)
  }
  paths.push('req.headers.authorization', 'req.headers["idempotency-key"]', 'req.headers.cookie')
  return paths
}

/**
 * Errors are logged with their type, message, code and stack only: a driver error's `detail` (e.g.
 * PostgreSQL's "Key (x)=(value) already exists") can quote the data that was being written.
 */
export const safeError = (err: unknown): Record<string, unknown> => {
  if (!(err instanceof Error)) return { message: String(err) }
  const code = (err as { code?: unknown }).code
  return { type: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), stack: err.stack }
}

export const loggerOptions = (level: string): LoggerOptions => ({
  level,
  serializers: { err: safeError },
  redact: { paths: redactPaths(), censor: '[redacted]' },
  base: { service: 'regiobalie' },
  timestamp: pino.stdTimeFunctions.isoTime,
})

export const createLogger = (level: string, destination?: pino.DestinationStream): Logger =>
  destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level))
