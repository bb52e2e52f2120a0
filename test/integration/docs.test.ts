// The contract as served (API.md "Operations and bootstrap", issue 8): `/v1/openapi.json` with the
// relative server `/v1`, readable cross-origin; `/openapi.json` with full paths; `/docs`, whose
// "Try it out" reaches the API from any host and port and whose examples the API accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSpec, operations } from '../../api/http/openapi.js'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { newRegion, type RegionFixture } from '../helpers/builders.js'

type Obj = Record<string, unknown>
interface Served {
  servers: Array<{ url: string }>
  paths: Record<string, Obj & { servers?: Array<{ url: string }> }>
}

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

const METHODS = ['get', 'put', 'post', 'patch', 'delete']

/** How Swagger UI builds a request URL: the server resolved against the document's URL, then the path. */
function tryItOutUrl(doc: Served, path: string, documentUrl: string): URL {
  const server = doc.paths[path]?.servers?.[0]?.url ?? doc.servers[0]?.url ?? '/'
  const base = new URL(server, documentUrl).href.replace(/\/$/, '')
  return new URL(base + path.replace(/\{[^}]+\}/g, '3f0c8a52-6d1e-4b7a-9c2d-5e8f1a2b3c4d'))
}

describe('/v1/openapi.json', () => {
  it('is the contract as written, under the relative server /v1', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/openapi.json' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const doc = res.json<Served>()
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/v1' })])
    expect(Object.keys(doc.paths)).toContain('/cases')
    expect(Object.keys(doc.paths)).not.toContain('/v1/cases')
    expect(doc).toEqual(JSON.parse(JSON.stringify(loadSpec())))
  })

  it('is readable cross-origin, without credentials', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/openapi.json', headers: { origin: 'https://editor.example' } })
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin')
  })

  it('is the only cross-origin answer: the API itself is not', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/cases', headers: { origin: 'https://editor.example', ...bearer(region.members[0].key) } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })
})

describe('/openapi.json', () => {
  it('keeps serving the contract, with every path written out in full under /', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' })
    expect(res.statusCode).toBe(200)
    const doc = res.json<Served>()
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })])
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/cases', '/v1/cases/{caseId}', '/healthz', '/metrics']))
    expect(Object.values(doc.paths).every((item) => item.servers === undefined)).toBe(true)
    expect(res.headers['access-control-allow-origin']).toBe('*')
  })
})

describe('/docs', () => {
  it('serves the UI over the contract as written', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    const json = await t.app.inject({ method: 'GET', url: '/docs/json' })
    expect(json.json<Served>().servers).toEqual([expect.objectContaining({ url: '/v1' })])
  })

  it('has a policy that lets "Try it out" call this origin over plain http', async () => {
    for (const url of ['/docs/', '/docs/static/index.html']) {
      const res = await t.app.inject({ method: 'GET', url })
      const csp = String(res.headers['content-security-policy'])
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]))
      expect(directives.get('connect-src')).toEqual(["'self'"])
      expect(directives.has('upgrade-insecure-requests')).toBe(false)
      expect(directives.get('frame-ancestors')).toEqual(["'none'"])
      expect(directives.get('script-src')).not.toContain("'unsafe-inline'")
      expect(directives.get('default-src')).toEqual(["'self'"])
    }
  })

  it('"Try it out" reaches a route of the API for every operation, on any host and port', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json<Served>()
    const documentUrl = 'http://10.1.2.3:8123/docs/json'
    let checked = 0
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS.filter((m) => item[m] !== undefined)) {
        const url = tryItOutUrl(doc, path, documentUrl)
        expect(url.origin).toBe('http://10.1.2.3:8123')
        const res = await t.app.inject({ method: method.toUpperCase() as 'GET', url: url.pathname })
        expect(res.json<Obj>().code, `${method} ${url.pathname}`).not.toBe('route-not-found')
        checked += 1
      }
    }
    expect(checked).toBe(operations(loadSpec()).size)
  })

  it('"Try it out" with the example values of submitCase gets a 201, with a member key', async () => {
    const doc = loadSpec() as unknown as { paths: Record<string, Record<string, { requestBody: { content: Record<string, { examples: Record<string, { value: Obj }> }> } }>> }
    const examples = Object.entries(doc.paths['/cases']!.post!.requestBody.content['application/json']!.examples)
    expect(examples.length).toBeGreaterThan(0)
    for (const [name, { value }] of examples) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/cases', headers: bearer(region.members[0].key), payload: value })
      expect(res.statusCode, `${name}: ${res.body}`).toBe(201)
      expect(res.json<Obj>()).toMatchObject({ caseType: value.caseType, status: 'submitted' })
    }
  })
})
