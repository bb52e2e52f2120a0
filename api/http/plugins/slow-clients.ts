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
    app.addHook('onRequest', async (request) => {
      const raw = request.raw
      if (raw.complete) return
      const upload = (request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')
      const ms = upload ? limits.uploadMs : limits.jsonBodyMs
      const timer = setTimeout(() => {
        if (raw.complete) return
        request.log.warn({ upload, ms }, 'request body did not arrive in time; connection dropped')
        // Destroying the socket errors the body stream: the upload pipeline removes its temporary
        // file and nothing is committed.
        raw.socket?.destroy()
        raw.destroy()
      }, ms)
      timer.unref()
      const done = () => clearTimeout(timer)
      raw.once('end', done)
      raw.once('close', done)
    })
  },
  { name: 'slow-clients' },
)
