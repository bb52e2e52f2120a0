// Slow clients are cut off (issue 9): a request body that stalls or trickles is dropped once its
// time is up — an upload after `uploadMs`, any other body after `jsonBodyMs` — so a crowd of stalled
// uploads cannot hold a temporary file and a connection each for ever. Together with the server's
// headersTimeout and maxConnections (app.ts) this bounds what a slow client can hold.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface SlowClientLimits {
  jsonBodyMs: number
  uploadMs: number
}

export const slowClientsPlugin = fp(
  async (app: FastifyInstance, limits: SlowClientLimits) => {
    const timers = new WeakMap<object, NodeJS.Timeout>()
    app.addHook('onRequest', async (request) => {
      const raw = request.raw
      if (raw.complete) return
      const upload = (request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')
      const ms = upload ? limits.uploadMs : limits.jsonBodyMs
      const timer = setTimeout(() => {
        if (raw.complete || raw.destroyed) return
        request.log.warn({ upload, ms }, 'request body did not arrive in time; connection dropped')
        // Destroying the socket errors the body stream: the upload pipeline removes its temporary
        // file and nothing is committed. (An injected request has no real socket.)
        const socket = raw.socket as { destroy?: unknown } | null
        if (typeof socket?.destroy === 'function') (socket as { destroy(): void }).destroy()
        raw.destroy()
      }, ms)
      timer.unref()
      const done = () => clearTimeout(timer)
      timers.set(request, timer)
      raw.once('end', done)
      raw.once('close', done)
    })
    // Answered: whatever is left of the body no longer matters to us.
    app.addHook('onResponse', async (request) => {
      clearTimeout(timers.get(request))
      timers.delete(request)
    })
  },
  { name: 'slow-clients' },
)
