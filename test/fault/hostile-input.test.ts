// Hostile request bodies (issue 9): the freezing array, text PostgreSQL cannot store in every text
// field of every body (the list generated from the contract), forged cursors and type coercion.
import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSpec, operations, type OpenApiDocument } from '../../api/http/openapi.js'
import { bearer, startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, newSubject, validBsn } from '../helpers/case-builders.js'
import { expectProblem } from '../helpers/tenancy-builders.js'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Schema = { [key: string]: Json }

const spec: OpenApiDocument = loadSpec()
const UUID = '00000000-0000-4000-8000-00000000abcd'

let t: TestApp
let roomy: TestApp
let adminKey: string
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  // The same app with a body limit large enough to let a 50,000-item array reach the validator.
  roomy = await startTestApp({ JSON_BODY_LIMIT_BYTES: String(8 * 1024 * 1024) }, { database: t.database })
  adminKey = await newAdminKey(t.database.db)
  region = await newRegion(t.database.db)
})
afterAll(async () => {
  await roomy.close()
  await t.close()
})

const deref = (node: Schema): Schema => {
  const ref = node.$ref
  if (typeof ref !== 'string') return node
  return deref(spec.components.schemas[ref.split('/').pop()!] as Schema)
}

/** Every string reachable in a schema, as the dotted path the error handler names (`subject.surname`). */
function stringPaths(node: Schema, path: string, out: string[], seen = new Set<Schema>()): string[] {
  const s = deref(node)
  if (seen.has(s)) return out
  const types = Array.isArray(s.type) ? s.type : [s.type]
  if (types.includes('string')) out.push(path)
  if (types.includes('array') && s.items && typeof s.items === 'object') stringPaths(s.items as Schema, path ? `${path}.0` : '0', out, new Set(seen).add(s))
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) stringPaths(child, path ? `${path}.${name}` : name, out, new Set(seen).add(s))
  for (const k of ['allOf', 'oneOf', 'anyOf'] as const) for (const sub of (s[k] ?? []) as Schema[]) stringPaths(sub, path, out, seen)
  return out
}

const setPath = (path: string, value: string): Json => {
  const [head, ...rest] = path.split('.')
  const inner = rest.length === 0 ? value : setPath(rest.join('.'), value)
  return /^\d+$/.test(head!) ? [inner] : { [head!]: inner }
}

const jsonBodies = [...operations(spec)].flatMap(([id, op]) => {
  const content = (op.operation.requestBody as Schema | undefined)?.content as Schema | undefined
  const schema = (content?.['application/json'] as Schema | undefined)?.schema as Schema | undefined
  return schema ? [{ id, method: op.method, url: op.path.replace(/\{[^}]+\}/g, UUID), fields: stringPaths(schema, '', []) }] : []
})

describe('the contract', () => {
  it('bounds every array (maxItems) and every request string, and keeps uniqueItems linear', () => {
    const problems: string[] = []
    const walk = (node: Json, where: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`))
      if (!node || typeof node !== 'object') return
      if (node.type === 'array') {
        if (typeof node.maxItems !== 'number') problems.push(`${where}: array without maxItems`)
        const items = node.items as Schema | undefined
        if (node.uniqueItems === true && (!items || typeof items.type !== 'string' || ['object', 'array'].includes(items.type))) {
          problems.push(`${where}: uniqueItems over items without a scalar type (Ajv compares pairwise)`)
        }
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`)
    }
    walk(spec.components.schemas, 'components.schemas')
    // Request strings: bounded by maxLength, or by an enum, a format or an anchored pattern.
    for (const body of jsonBodies) {
      const check = (node: Schema, where: string, seen: Set<Schema>) => {
        const s = deref(node)
        if (seen.has(s)) return
        seen.add(s)
        const types = Array.isArray(s.type) ? s.type : [s.type]
        if (types.includes('string') && s.maxLength === undefined && s.enum === undefined && s.format === undefined && !(typeof s.pattern === 'string' && /^\^.*\$$/.test(s.pattern))) {
          problems.push(`${body.id} ${where}: unbounded string`)
        }
        if (s.items) check(s.items as Schema, `${where}[]`, seen)
        for (const [n, c] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) check(c, `${where}.${n}`, seen)
      }
      const content = (operations(spec).get(body.id)!.operation.requestBody as Schema).content as Schema
      check((content['application/json'] as Schema).schema as Schema, 'body', new Set())
    }
    expect(problems).toEqual([])
  })
})

describe('the freezing array', () => {
  const huge = Array.from({ length: 50_000 }, () => 'cases:read')

  it('is refused by the body limit before anything parses it (413)', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/tenants/${region.hub.id}/api-keys`, headers: bearer(adminKey), payload: { name: 'k', scopes: huge } })
    expectProblem(res, 413, 'payload-too-large')
  })

  it('is refused quickly by validation when the body limit lets it through (400 too-many)', async () => {
    for (const [url, payload] of [
      [`/v1/tenants/${region.hub.id}/api-keys`, { name: 'k', scopes: huge }],
      [`/v1/tenants/${region.hub.id}/staff`, { name: 'n', email: 'a@b.nl', role: 'lead', skills: huge.map(() => 'option') }],
    ] as const) {
      const started = performance.now()
      const res = await roomy.app.inject({ method: 'POST', url, headers: bearer(adminKey), payload })
      const ms = performance.now() - started
      const p = expectProblem(res, 400, 'invalid-request')
      expect(p.invalidParams).toContainEqual(expect.objectContaining({ code: 'too-many' }))
      // Never a list of 50,000 complaints either.
      expect((p.invalidParams as unknown[]).length).toBeLessThanOrEqual(20)
      // Pairwise uniqueItems over 50,000 items takes many seconds; linear validation a few ms.
      // The bound is generous for a loaded machine and still far below the quadratic cost.
      expect(ms).toBeLessThan(1_500)
    }
  })

  it('also for staff skills on another route, and the API keeps serving', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' })
    expect(res.statusCode).toBe(200)
  })
})

describe('text PostgreSQL cannot store', () => {
  it('finds text fields in the contract to probe', () => {
    const total = jsonBodies.reduce((n, b) => n + b.fields.length, 0)
    expect(total).toBeGreaterThan(15)
  })

  for (const [label, bad] of [
    ['a NUL character', 'ab\u0000cd'],
    ['a lone high surrogate', 'ab\ud800cd'],
    ['a lone low surrogate', 'ab\udc00'],
  ] as const) {
    it(`is a 400 naming the field for ${label} in every text field of every body`, async () => {
      const failures: string[] = []
      for (const body of jsonBodies) {
        for (const field of body.fields) {
          const res = await t.app.inject({
            method: body.method as 'POST',
            url: body.url,
            headers: { ...bearer(adminKey), 'content-type': 'application/json', 'if-match': '"1"' },
            payload: JSON.stringify(setPath(field, bad)),
          })
          const json = res.json<{ code?: string; invalidParams?: Array<{ name: string; code: string }> }>()
          const named = json.invalidParams?.some((p) => p.name === field && p.code === 'invalid-characters')
          if (res.statusCode !== 400 || !named) failures.push(`${body.id} ${field}: ${res.statusCode} ${res.body.slice(0, 200)}`)
        }
      }
      console.info(`[fault] ${label}: ${jsonBodies.reduce((n, b) => n + b.fields.length, 0)} text fields in ${jsonBodies.length} bodies probed, ${failures.length} failed`)
      expect(failures).toEqual([])
    }, 60_000)
  }

  it('is a 400 in a query parameter too, never a 500', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/cases?caseType=${encodeURIComponent('option\u0000')}`, headers: bearer(region.members[0].key) })
    expect(res.statusCode).toBe(400)
  })

  it('keeps well-formed text (a paired surrogate, an emoji) as it is', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: bearer(region.members[0].key),
      payload: caseBody({ subject: newSubject({ surname: 'Nguyễn 😀' }) }),
    })
    expect(res.statusCode).toBe(201)
  })
})

describe('forged cursors', () => {
  const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  for (const [label, cursor] of [
    ['a time before any PostgreSQL timestamp', forge({ c: '-271821-04-20T00:00:00.000Z', i: UUID })],
    ['a time after year 9999', forge({ c: '+275760-09-13T00:00:00.000Z', i: UUID })],
    ['JSON null', forge(null)],
    ['a number for the id', forge({ c: '2026-01-01T00:00:00.000Z', i: 7 })],
    ['not base64 JSON at all', '%%%%'],
  ] as const) {
    it(`is 400 invalid-cursor for ${label}`, async () => {
      for (const [url, key] of [
        ['/v1/cases', region.members[0].key],
        ['/v1/regions', adminKey],
        ['/v1/tenants', adminKey],
      ] as const) {
        const res = await t.app.inject({ method: 'GET', url: `${url}?cursor=${encodeURIComponent(cursor)}`, headers: bearer(key) })
        const p = expectProblem(res, 400, 'invalid-request')
        expect(p.invalidParams).toContainEqual(expect.objectContaining({ name: 'query.cursor', code: 'invalid-cursor' }))
      }
    })
  }

  it('is 400 invalid-cursor for an access-log cursor beyond the safe integers', async () => {
    const c = (await t.app.inject({ method: 'POST', url: '/v1/cases', headers: bearer(region.members[0].key), payload: caseBody() })).json<{ id: string }>()
    const res = await t.app.inject({ method: 'POST', url: '/v1/access-log/search', headers: bearer(region.members[0].key), payload: { caseId: c.id, cursor: '9999999999999999' } })
    expect(res.statusCode).toBe(400)
  })
})

describe('no type coercion in bodies', () => {
  it('refuses a BSN sent as a JSON number', async () => {
    const bsn = validBsn()
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: bearer(region.members[0].key),
      payload: caseBody({ subject: { ...newSubject(), bsn: Number(bsn) as unknown as string } }),
    })
    const p = expectProblem(res, 400, 'invalid-request')
    expect(p.invalidParams).toContainEqual(expect.objectContaining({ name: 'subject.bsn', code: 'invalid-type' }))
  })

  it('refuses a number sent as a string and a string sent as a boolean-ish number', async () => {
    const tariff = await t.app.inject({
      method: 'PUT',
      url: `/v1/tenants/${region.members[0].id}/agreements/option`,
      headers: bearer(adminKey),
      payload: { tariffCents: '45000', validFrom: '2020-01-01' },
    })
    expect(tariff.statusCode).toBe(400)
    const name = await t.app.inject({ method: 'POST', url: '/v1/regions', headers: bearer(adminKey), payload: { name: 12345 } })
    expect(name.statusCode).toBe(400)
  })

  it('still reads integers from the query string', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/regions?limit=2', headers: bearer(adminKey) })
    expect(res.statusCode).toBe(200)
  })
})
