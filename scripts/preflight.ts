// Before anything starts: do PostgreSQL and Redis answer? If not, one clear line on how to start them.
import { Redis } from 'ioredis'
import pg from 'pg'

const HOW_TO_START =
  'start the local services (PostgreSQL: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`; ' +
  'Redis: `redis-server --daemonize yes --bind 127.0.0.1 --port 6379`) or run `docker compose up -d postgres redis`'

const where = (raw: string): string => {
  const u = new URL(raw)
  return `${u.hostname}:${u.port || (u.protocol.startsWith('redis') ? '6379' : '5432')}`
}

export async function checkPostgres(ownerUrl: string): Promise<string | null> {
  const server = new URL(ownerUrl)
  server.pathname = '/postgres'
  const client = new pg.Client({ connectionString: server.toString(), connectionTimeoutMillis: 3_000 })
  try {
    await client.connect()
    await client.query('select 1')
    return null
  } catch (err) {
    return `PostgreSQL does not answer at ${where(ownerUrl)} (${err instanceof Error ? err.message : String(err)}): ${HOW_TO_START}`
  } finally {
    await client.end().catch(() => undefined)
  }
}

export async function checkRedis(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000, retryStrategy: () => null })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    await redis.ping()
    return null
  } catch (err) {
    return `Redis does not answer at ${where(url)} (${err instanceof Error ? err.message : String(err)}): ${HOW_TO_START}`
  } finally {
    redis.disconnect()
  }
}
