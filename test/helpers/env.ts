import { randomBytes } from 'node:crypto'
import pg from 'pg'

// Where the tests find PostgreSQL and Redis: the same variables as the platform, with defaults for
// the local services.
export const OWNER_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The secret keys of a test deployment (config refuses to start without them). */
export const TEST_KEYS = {
  BLOB_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
  BSN_HASH_KEY: Buffer.alloc(32, 5).toString('base64'),
}
export const APP_USER = 'regiobalie_api'
export const APP_PASSWORD = 'regiobalie_api'

export const databaseUrl = (name: string, user = 'postgres', password = ''): string => {
  const u = new URL(OWNER_SERVER_URL)
  u.pathname = `/${name}`
  u.username = user
  u.password = password
  return u.toString()
}

/** One short connection to the server's `postgres` database, as the owner. */
export const withServer = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: OWNER_SERVER_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** rb_<kind>_<unix seconds>_<random>: the time lets a later run tell a leftover from a live one. */
export const testDatabaseName = (kind: 'test' | 'tpl'): string =>
  `rb_${kind}_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`
