// Closing the API waits for a handler whose client has gone: its request is over for Fastify, but
// its transaction is not, and the pools may close only after it (api/http/server.ts).
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'kysely'
import { expect, test } from 'vitest'
import { startTestApp } from '../helpers/app.js'

test('close waits for a running handler whose client disconnected', async () => {
  const order: string[] = []
  let started!: () => void
  const handlerStarted = new Promise<void>((resolve) => (started = resolve))
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  let queried: unknown = null
  const t = await startTestApp({}, {
    extraRoutes: (app) =>
      app.get('/test/slow', { config: { scope: 'public' } }, async () => {
        started()
        await released
        const { rows } = await sql<{ one: number }>`select 1 as one`.execute(t.database.db)
        queried = rows[0]?.one
        order.push('handler done')
        return { ok: true }
      }),
  })
  try {
    await t.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = t.app.server.address() as AddressInfo
    const client = request({ host: '127.0.0.1', port, path: '/test/slow' })
    client.on('error', () => undefined)
    client.end()
    await handlerStarted
    client.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const closed = t.app.close().then(() => order.push('closed'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(order).toEqual([])
    release()
    await closed
    expect(order).toEqual(['handler done', 'closed'])
    expect(queried).toBe(1)
  } finally {
    release()
    t.redis.disconnect()
    await t.database.drop()
  }
})
