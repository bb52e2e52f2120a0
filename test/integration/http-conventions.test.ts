import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../api/http/app.js'
import { createLogger } from '../../api/logger.js'
import { bearer, body, startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey } from '../helpers/builders.js'

let t: TestApp
let adminKey: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

const expectProblem = (res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number, code: string) => {
  expect(res.statusCode).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  const p = res.json() as Record<string, unknown>
  expect(p).toMatchObject({ status, code, type: `urn:regiobalie:problem:${code}` })
  expect(typeof p.title).toBe('string')
  expect(typeof p.requestId).toBe('string')
  expect(p.requestId).toBe(res.headers['x-request-id'])
  return p
}

describe('every response', () => {
  it('carries X-Request-Id and API-Version, echoing a request id the client sent', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'client-trace-42' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['x-request-id']).toBe('client-trace-42')
    expect(res.headers['api-version']).toBe('1.0.0')
  })

  it('generates a request id when the client sent an unusable one', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id with spaces\u0000' } })
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('has the headers on errors too', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' })
    const p = expectProblem(res, 404, 'route-not-found')
    expect(p.instance).toBe('/nope')
    expect(res.headers['api-version']).toBe('1.0.0')
  })
})

describe('problem+json refusals', () => {
  it('401 without a key, with WWW-Authenticate', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/regions' })
    expectProblem(res, 401, 'unauthorized')
    expect(res.headers['www-authenticate']).toContain('Bearer')
  })

  it('401 for an unknown key', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/regions', headers: bearer('rbk_a_thisKeyDoesNotExistAnywhere0000000000000') })
    expectProblem(res, 401, 'unauthorized')
  })

  it('400 with invalidParams for an invalid field and for an unknown body property', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: bearer(adminKey),
      payload: { municipalityCode: 'GM12', regionId: 'not-a-uuid', role: 'hub', status: 'active' },
    })
    const p = expectProblem(res, 400, 'invalid-request')
    const names = (p.invalidParams as Array<{ name: string; code: string }>).map((i) => `${i.name}:${i.code}`)
    expect(names).toEqual(expect.arrayContaining(['municipalityCode:invalid-format', 'regionId:invalid-format', 'status:unknown-property']))
  })

  it('400 for a missing required field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/regions', headers: bearer(adminKey), payload: {} })
    const p = expectProblem(res, 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'name', code: 'required' })])
  })

  it('400 for an unknown query parameter', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/regions?colour=red', headers: bearer(adminKey) })
    const p = expectProblem(res, 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'query.colour', code: 'unknown-property' })])
  })

  it('400 for a limit out of range and for a forged cursor', async () => {
    expectProblem(await t.app.inject({ method: 'GET', url: '/v1/regions?limit=101', headers: bearer(adminKey) }), 400, 'invalid-request')
    const forged = await t.app.inject({ method: 'GET', url: '/v1/regions?cursor=bm90LWEtY3Vyc29y', headers: bearer(adminKey) })
    const p = expectProblem(forged, 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'query.cursor', code: 'invalid-cursor' })])
  })

  it('400 for malformed JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/regions',
      headers: { ...bearer(adminKey), 'content-type': 'application/json' },
      payload: '{"name": ',
    })
    expectProblem(res, 400, 'malformed-request')
  })

  it('415 for a body that is not JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/regions',
      headers: { ...bearer(adminKey), 'content-type': 'text/plain' },
      payload: 'name=x',
    })
    expectProblem(res, 415, 'unsupported-media-type')
  })

  it('413 for a JSON body over the limit', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/regions',
      headers: { ...bearer(adminKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
    })
    expectProblem(res, 413, 'payload-too-large')
  })
})

describe('unexpected errors', () => {
  it('answer 500 with a generic body that carries no internal text', async () => {
    const started = await startTestApp(
      {},
      {
        database: t.database,
        extraRoutes: (a) =>
          a.get('/boom', { config: { scope: 'public' } }, async () => {
            throw new Error('secret internal detail: connection string postgres://x')
          }),
      },
    )
    try {
      const res = await started.app.inject({ method: 'GET', url: '/boom' })
      const p = expectProblem(res, 500, 'internal-error')
      expect(JSON.stringify(p)).not.toContain('secret internal detail')
      expect(JSON.stringify(p)).not.toContain('postgres://')
    } finally {
      await started.close()
    }
  })
})

describe('the contract', () => {
  it('is served as JSON at /openapi.json and browsable at /docs', async () => {
    const spec = await t.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(spec.statusCode).toBe(200)
    expect(body<{ openapi: string; paths: Record<string, unknown> }>(spec)).toMatchObject({ openapi: '3.1.0' })
    expect(Object.keys(body<{ paths: Record<string, unknown> }>(spec).paths)).toContain('/v1/tenants')
    const docs = await t.app.inject({ method: 'GET', url: '/docs' })
    expect(docs.statusCode).toBe(200)
    expect(docs.headers['content-type']).toMatch(/text\/html/)
  })
})

describe('/metrics', () => {
  it('needs tenants:admin on the API port and then answers in Prometheus format', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
    await t.app.inject({ method: 'GET', url: '/healthz' })
    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer(adminKey) })
    expect(res.statusCode).toBe(200)
    expect(res.body).toContain('regiobalie_http_request_duration_seconds_bucket')
    expect(res.body).toMatch(/regiobalie_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/)
    expect(res.body).toContain('regiobalie_outbox_pending')
  })
})

describe('security headers', () => {
  it('every response is nosniff and never framed, errors and unknown paths too', async () => {
    for (const res of [
      await t.app.inject({ method: 'GET', url: '/healthz' }),
      await t.app.inject({ method: 'GET', url: '/nope' }),
      await t.app.inject({ method: 'GET', url: '/v1/regions' }),
      await t.app.inject({ method: 'GET', url: '/v1/regions', headers: bearer(adminKey) }),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/)
      expect(res.headers['x-frame-options']).toBe('DENY')
    }
  })

  it('leaves /docs its own policy, which lets the page run', async () => {
    const docs = await t.app.inject({ method: 'GET', url: '/docs' })
    expect(docs.statusCode).toBe(200)
    expect(docs.headers['x-content-type-options']).toBe('nosniff')
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'/)
    expect(docs.headers['content-security-policy']).toMatch(/frame-ancestors/)
  })

  it('marks every /v1 answer no-store, refusals too; the public documents may be cached', async () => {
    const ok = await t.app.inject({ method: 'GET', url: '/v1/regions', headers: bearer(adminKey) })
    expect(ok.statusCode).toBe(200)
    expect(ok.headers['cache-control']).toBe('no-store')
    expect((await t.app.inject({ method: 'GET', url: '/v1/regions' })).headers['cache-control']).toBe('no-store')
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).headers['cache-control']).toBeUndefined()
  })
})

describe('a trailing slash', () => {
  it('answers 404 like any unknown path, with or without a key', async () => {
    for (const url of ['/v1/regions/', '/v1/cases/', '/healthz/', '/v1/tenants/?limit=1']) {
      for (const headers of [{}, bearer(adminKey)]) {
        const p = expectProblem(await t.app.inject({ method: 'GET', url, headers }), 404, 'route-not-found')
        expect(p.detail).toBe(`no route GET ${url.split('?')[0]}`)
      }
    }
    expect((await t.app.inject({ method: 'GET', url: '/v1/regions', headers: bearer(adminKey) })).statusCode).toBe(200)
  })
})

describe('401 messages', () => {
  it('say what is wrong with the key', async () => {
    const detail = async (authorization?: string) =>
      expectProblem(await t.app.inject({ method: 'GET', url: '/v1/regions', headers: authorization ? { authorization } : {} }), 401, 'unauthorized').detail
    expect(await detail()).toBe('an API key is required: Authorization: Bearer <key>')
    expect(await detail('Bearer rbk_a_thisKeyDoesNotExistAnywhere0000000000000')).toBe('the API key is unknown or revoked')
    expect(await detail('Bearer short')).toBe('the API key is unknown or revoked')
    expect(await detail('Basic dXNlcjpwYXNzd29yZA==')).toBe('the Authorization header must be "Bearer <key>"')
  })
})

describe('the request log', () => {
  it('records the route path, never the query string or the path values', async () => {
    const lines: string[] = []
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }))
    const logged = await buildApp({ config: t.config, db: t.database.db, redis: t.redis, logger })
    try {
      const bsn = '111222333'
      const refused = await logged.app.inject({ method: 'GET', url: `/v1/cases?bsn=${bsn}`, headers: bearer(adminKey) })
      expect(refused.statusCode).toBe(400)
      await logged.app.inject({ method: 'GET', url: `/v1/cases/${bsn}`, headers: bearer(adminKey) })
      await logged.app.inject({ method: 'GET', url: `/v1/${bsn}` })
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(entries.filter((e) => e.msg === 'request completed').map((e) => [e.route, e.statusCode])).toEqual([
        ['/v1/cases', 400],
        ['/v1/cases/:caseId', 400],
        [null, 404],
      ])
      expect(lines.join('')).not.toContain(bsn)
    } finally {
      await logged.app.close()
    }
  })
})
