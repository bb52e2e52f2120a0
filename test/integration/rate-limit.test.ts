// Rate limiting per API key: a fixed one-minute window counted in Redis, so every API process
// shares it. The clock (Date only) is pinned to the middle of a minute so a test never straddles a
// window boundary; Redis, PostgreSQL and the app are real.
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, newTenant, type RegionFixture } from '../helpers/builders.js'
import { call, expectOk, expectProblem } from '../helpers/tenancy-builders.js'

const LIMIT = 3
let t: TestApp
let region: RegionFixture
let adminKey: string

beforeAll(async () => {
  t = await startTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT) })
  region = await newRegion(t.database.db)
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

/** 30 s into the current minute: the window resets in exactly 30 s. */
const midMinute = (): number => Math.floor(Date.now() / 60_000) * 60_000 + 30_000
beforeEach(() => {
  const at = midMinute()
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(at)
})
afterEach(() => {
  vi.useRealTimers()
})

const rateHeaders = (res: LightMyRequestResponse) => ({
  limit: res.headers['ratelimit-limit'],
  remaining: res.headers['ratelimit-remaining'],
  reset: res.headers['ratelimit-reset'],
})

/** A key nobody has used yet (every test counts from zero). */
const freshTenant = () => newTenant(t.database.db, region.regionId, 'member')
const ownTenant = (app: TestApp, tenant: { id: string; key: string }) => call(app.app, 'GET', `/v1/tenants/${tenant.id}`, tenant.key)

describe('the rate limit per key', () => {
  it('lets LIMIT requests through with RateLimit headers, then answers 429 rate-limited with Retry-After', async () => {
    const tenant = await freshTenant()
    for (let i = 1; i <= LIMIT; i += 1) {
      const res = await ownTenant(t, tenant)
      expectOk(res)
      expect(rateHeaders(res)).toEqual({ limit: '3', remaining: String(LIMIT - i), reset: '30' })
    }
    const refused = await ownTenant(t, tenant)
    const p = expectProblem(refused, 429, 'rate-limited')
    expect(p.detail).toContain('3')
    expect(refused.headers['retry-after']).toBe('30')
    expect(rateHeaders(refused)).toEqual({ limit: '3', remaining: '0', reset: '30' })
    // Refusals keep being refused in the same window, whatever the route.
    expectProblem(await call(t.app, 'GET', '/v1/tenants', tenant.key), 429, 'rate-limited')
  })

  it('counts each key on its own: another key of the same tenant, and another tenant, are unaffected', async () => {
    const tenant = await freshTenant()
    for (let i = 0; i < LIMIT; i += 1) expectOk(await ownTenant(t, tenant))
    expectProblem(await ownTenant(t, tenant), 429, 'rate-limited')

    const other = await ownTenant(t, region.members[1])
    expectOk(other)
    expect(rateHeaders(other).remaining).toBe(String(LIMIT - 1))
    const secondKey = expectOk<{ key: string }>(await call(t.app, 'POST', `/v1/tenants/${tenant.id}/api-keys`, adminKey, { name: 'second' }), 201)
    const res = await ownTenant(t, { id: tenant.id, key: secondKey.key })
    expectOk(res)
    expect(rateHeaders(res).remaining).toBe(String(LIMIT - 1))
  })

  it('starts again in the next window', async () => {
    const tenant = await freshTenant()
    for (let i = 0; i < LIMIT; i += 1) expectOk(await ownTenant(t, tenant))
    expectProblem(await ownTenant(t, tenant), 429, 'rate-limited')
    vi.setSystemTime(midMinute() + 60_000)
    const res = await ownTenant(t, tenant)
    expectOk(res)
    expect(rateHeaders(res)).toEqual({ limit: '3', remaining: String(LIMIT - 1), reset: '30' })
  })

  it('applies before the scope check: a refused route still uses up the key', async () => {
    const tenant = await freshTenant()
    for (let i = 0; i < LIMIT; i += 1) expectProblem(await call(t.app, 'GET', '/v1/regions', tenant.key), 403, 'insufficient-scope')
    expectProblem(await ownTenant(t, tenant), 429, 'rate-limited')
  })

  it('is shared by two app instances on the same Redis', async () => {
    const second = await startTestApp({ RATE_LIMIT_PER_MINUTE: String(LIMIT) }, { database: t.database })
    try {
      const tenant = await freshTenant()
      expect(rateHeaders(expectOkRes(await ownTenant(t, tenant))).remaining).toBe('2')
      expect(rateHeaders(expectOkRes(await ownTenant(second, tenant))).remaining).toBe('1')
      expect(rateHeaders(expectOkRes(await ownTenant(t, tenant))).remaining).toBe('0')
      const refused = await ownTenant(second, tenant)
      expectProblem(refused, 429, 'rate-limited')
      expect(refused.headers['retry-after']).toBe('30')
      expectProblem(await ownTenant(t, tenant), 429, 'rate-limited')
      // A key fresh to both instances is still let through on either.
      expectOk(await ownTenant(second, region.members[0]))
    } finally {
      await second.close()
    }
  })
})

const expectOkRes = (res: LightMyRequestResponse): LightMyRequestResponse => {
  expectOk(res)
  return res
}
