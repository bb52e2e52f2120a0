// The one place that reads the environment (STYLE.md §2). Parsed once at boot into a frozen object;
// a bad value stops the process with a message that names the variable and says what is expected.

import { createHmac } from 'node:crypto'
import { DEFAULT_QUEUE_PREFIX, QUEUE_NAMES, type QueueName } from './jobs/registry.js'

export interface Config {
  readonly port: number
  /** API processes sharing the port (node:cluster); one per core is the fastest (issue 13). */
  readonly apiProcesses: number
  readonly host: string
  /** Connection of the schema owner: migrations and role set-up run with it. */
  readonly databaseUrl: string
  /** Connection of the application role (not superuser, not owner, not BYPASSRLS). */
  readonly appDatabaseUrl: string
  readonly redisUrl: string
  readonly blobDir: string
  readonly blobMasterKey: Buffer
  readonly bootstrapAdminToken: string | null
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  readonly rateLimitPerMinute: number
  /** Separate port for GET /metrics without authentication (0 = off). */
  readonly metricsPort: number
  /** The workers' own metrics port, where they answer /healthz and /readyz (0 = off). */
  readonly workersMetricsPort: number
  readonly upload: {
    readonly maxFileBytes: number
    readonly maxFields: number
    readonly maxFieldBytes: number
    readonly maxParts: number
  }
  /** Jobs of one tenant in flight per queue before the relay holds the rest back (fairness). */
  readonly relayMaxInFlightPerTenant: number
  /** Key prefix of the BullMQ queues (several deployments can share one Redis). */
  readonly queuePrefix: string
  /** Queues this workers process consumes (null = all); the relay runs in every workers process. */
  readonly workerQueues: readonly QueueName[] | null
  /** Secret for the keyed hash under which BSNs are looked up in the access log. */
  readonly bsnHashKey: Buffer
  /** Where the API is reached from outside: webhook bodies carry `<publicBaseUrl>/v1/…` links. */
  readonly publicBaseUrl: string
  readonly webhooks: {
    /** Lifts the SSRF guard (and allows plain http): development and tests only. */
    readonly allowPrivateNetworks: boolean
    /** Attempts of one subscription in progress at once, so one slow receiver cannot starve others. */
    readonly maxInFlightPerSubscription: number
  }
  /** The secrets that run on the fixed development keys (DEMO_KEYS=on; a demo database only). */
  readonly developmentKeys: readonly SecretKeyName[]
  /** Largest JSON request body a route takes unless it says otherwise. */
  readonly jsonBodyLimitBytes: number
  /** Slow clients are cut off (issue 9): the whole request must arrive within these times. */
  readonly timeouts: {
    readonly headersMs: number
    readonly jsonBodyMs: number
    readonly uploadMs: number
  }
  /** Concurrent connections one API process accepts; more are refused at once. */
  readonly maxConnections: number
  /** PostgreSQL: connecting and a single statement are bounded, so a hung server gives 503s. */
  readonly database: {
    readonly connectTimeoutMs: number
    readonly statementTimeoutMs: number
  }
  /** Requests with a missing, unknown or revoked key, per client address and minute. */
  readonly unknownKeyRateLimitPerMinute: number
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto/-For (the workbench's Secure cookie, its sign-in throttle). */
  readonly trustProxy: boolean
  readonly web: {
    /** Encrypts and authenticates the workbench's session cookie (32 bytes). */
    readonly sessionKey: Buffer
    /** A session unused this long is over (signed out). */
    readonly idleTimeoutSeconds: number
    /** Wrong keys per client address per minute before sign-in is refused for the rest of that minute. */
    readonly signInFailuresPerMinute: number
  }
}

export type SecretKeyName = 'BLOB_MASTER_KEY' | 'BSN_HASH_KEY'

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

// Fixed development keys keep `npm start` working on a fresh machine with a demo database. They are
// used only when DEMO_KEYS=on says so (scripts/start.ts sets it for a demo database); anywhere else
// a missing key stops the start-up.
const DEVELOPMENT_KEYS: Readonly<Record<SecretKeyName, string>> = {
  BLOB_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  BSN_HASH_KEY: Buffer.alloc(32, 11).toString('base64'),
}
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

type Env = Readonly<Record<string, string | undefined>>

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`)
  return value
}

const boolean = (env: Env, name: string, fallback: boolean): boolean => {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}

const url = (env: Env, name: string, fallback: string, protocols: string[]): string => {
  const raw = env[name] || fallback
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new ConfigError(`${name} is not a URL`)
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.join(' or ')}`)
  }
  return raw
}

const key32 = (name: string, raw: string): Buffer => {
  const bytes = Buffer.from(raw, 'base64')
  if (bytes.length !== 32 || bytes.toString('base64') !== raw.replace(/\s/g, '')) {
    throw new ConfigError(`${name} must be the base64 of exactly 32 bytes (e.g. \`openssl rand -base64 32\`)`)
  }
  return bytes
}

const queueList = (env: Env, name: string): QueueName[] | null => {
  const raw = env[name]
  if (raw === undefined) return null
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) {
    if (!(QUEUE_NAMES as readonly string[]).includes(n)) {
      throw new ConfigError(`${name}: unknown queue "${n}" (known: ${QUEUE_NAMES.join(', ')})`)
    }
  }
  return names as QueueName[]
}

/** The app role's URL defaults to the owner's URL with the application role's credentials. */
const defaultAppUrl = (ownerUrl: string): string => {
  const u = new URL(ownerUrl)
  u.username = 'regiobalie_api'
  u.password = 'regiobalie_api'
  return u.toString()
}

/**
 * The environment `npm start` runs with: when a secret key is missing and no admin token says this is
 * a real deployment, the fixed development keys are switched on (DEMO_KEYS=on) — scripts/start.ts
 * then goes on only if the database is the demo's.
 */
export function startEnvironment(env: Env = process.env): Env {
  const missing = !env.BLOB_MASTER_KEY || !env.BSN_HASH_KEY
  return missing && !env.DEMO_KEYS && !env.BOOTSTRAP_ADMIN_TOKEN ? { ...env, DEMO_KEYS: 'on' } : env
}

/** Says in the log, at start-up, which secrets run on the fixed development keys. */
export function warnOfDevelopmentKeys(config: Config, logger: { warn(obj: object, msg: string): void }): void {
  if (config.developmentKeys.length === 0) return
  logger.warn(
    { developmentKeys: config.developmentKeys },
    `DEMO_KEYS=on: ${config.developmentKeys.join(' and ')} use the fixed development keys, for a demo database only — never for real data`,
  )
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/regiobalie', ['postgres:', 'postgresql:'])
  const appDatabaseUrl = url(env, 'APP_DATABASE_URL', defaultAppUrl(databaseUrl), ['postgres:', 'postgresql:'])
  const token = env.BOOTSTRAP_ADMIN_TOKEN
  if (token !== undefined && token !== '' && token.length < 32) {
    throw new ConfigError('BOOTSTRAP_ADMIN_TOKEN must be at least 32 characters')
  }
  const logLevel = env.LOG_LEVEL || 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`)
  }
  const demoKeys = env.DEMO_KEYS ?? ''
  if (!['', 'on', 'off'].includes(demoKeys)) throw new ConfigError('DEMO_KEYS must be on or off')
  const developmentKeys: SecretKeyName[] = []
  const secretKey = (name: SecretKeyName): Buffer => {
    const raw = env[name]
    if (raw) return key32(name, raw)
    if (demoKeys !== 'on') {
      throw new ConfigError(
        `${name} is not set: set it to the base64 of 32 random bytes (\`openssl rand -base64 32\`). ` +
          'Only a demo database may run on the fixed development keys (DEMO_KEYS=on, as `npm start` sets for one).',
      )
    }
    developmentKeys.push(name)
    return key32(name, DEVELOPMENT_KEYS[name])
  }
  const masterKey = secretKey('BLOB_MASTER_KEY')
  const bsnHashKey = secretKey('BSN_HASH_KEY')
  const port = integer(env, 'PORT', 3000, 0, 65535)
  return Object.freeze({
    port,
    apiProcesses: integer(env, 'API_PROCESSES', 1, 1, 64),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    appDatabaseUrl,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:']),
    blobDir: env.BLOB_DIR || '.data/blobs',
    blobMasterKey: masterKey,
    bootstrapAdminToken: token ? token : null,
    logLevel: logLevel as Config['logLevel'],
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 1, 1_000_000),
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65535),
    workersMetricsPort: integer(env, 'WORKERS_METRICS_PORT', 0, 0, 65535),
    upload: Object.freeze({
      maxFileBytes: integer(env, 'UPLOAD_MAX_FILE_BYTES', 20 * 1024 * 1024, 1, 1024 * 1024 * 1024),
      maxFields: integer(env, 'UPLOAD_MAX_FIELDS', 10, 1, 100),
      maxFieldBytes: integer(env, 'UPLOAD_MAX_FIELD_BYTES', 1024, 16, 65536),
      maxParts: integer(env, 'UPLOAD_MAX_PARTS', 20, 2, 200),
    }),
    workerQueues: queueList(env, 'WORKER_QUEUES'),
    queuePrefix: env.QUEUE_PREFIX || DEFAULT_QUEUE_PREFIX,
    relayMaxInFlightPerTenant: integer(env, 'RELAY_MAX_IN_FLIGHT_PER_TENANT', 200, 1, 100_000),
    bsnHashKey,
    developmentKeys: Object.freeze(developmentKeys),
    publicBaseUrl: url(env, 'PUBLIC_BASE_URL', `http://127.0.0.1:${port}`, ['http:', 'https:']).replace(/\/+$/, ''),
    webhooks: Object.freeze({
      allowPrivateNetworks: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
      maxInFlightPerSubscription: integer(env, 'WEBHOOK_MAX_IN_FLIGHT_PER_SUBSCRIPTION', 32, 1, 1_000),
    }),
    jsonBodyLimitBytes: integer(env, 'JSON_BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    timeouts: Object.freeze({
      headersMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      jsonBodyMs: integer(env, 'JSON_REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
      uploadMs: integer(env, 'UPLOAD_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000),
    }),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 512, 1, 1_000_000),
    database: Object.freeze({
      connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 3_000, 100, 600_000),
      statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 100, 3_600_000),
    }),
    unknownKeyRateLimitPerMinute: integer(env, 'UNKNOWN_KEY_RATE_LIMIT_PER_MINUTE', 120, 1, 1_000_000),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    web: Object.freeze({
      // Derived from the master key when not set; set it apart in production.
      sessionKey: env.WEB_SESSION_KEY
        ? key32('WEB_SESSION_KEY', env.WEB_SESSION_KEY)
        : createHmac('sha256', masterKey).update('regiobalie workbench session').digest(),
      idleTimeoutSeconds: integer(env, 'WEB_IDLE_TIMEOUT_SECONDS', 1800, 1, 86_400),
      signInFailuresPerMinute: integer(env, 'WEB_SIGNIN_FAILURES_PER_MINUTE', 10, 1, 10_000),
    }),
  })
}
