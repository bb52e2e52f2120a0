// Issue 3, tenancy, as the platform admin sees it: onboarding municipalities, one hub per region,
// suspending a tenant, and API keys (shown once, stored hashed, scoped, revocable, lastUsedAt).
import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_SCOPES } from '../../api/domain/scopes.js'
import { findMunicipality } from '../../api/domain/municipalities.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { freshMunicipalityCode, newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { call, expectOk, expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
})
afterAll(async () => t.close())

interface Tenant {
  id: string
  municipalityCode: string
  name: string
  regionId: string
  role: 'hub' | 'member'
  status: 'active' | 'suspended'
}
interface CreatedKey {
  id: string
  name: string
  scopes: string[]
  key: string
  createdAt: string
}
interface ListedKey {
  id: string
  prefix: string
  lastUsedAt: string | null
  revokedAt: string | null
}

const admin = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => call(t.app, method, url, adminKey, payload)
const newRegionId = async (): Promise<string> => expectOk<{ id: string }>(await admin('POST', '/v1/regions', { name: 'Regio test' }), 201).id
const onboard = (municipalityCode: string, regionId: string, role: 'hub' | 'member') => admin('POST', '/v1/tenants', { municipalityCode, regionId, role })

describe('onboarding a municipality', () => {
  it('takes the tenant name from the shipped CBS list and answers 201 with Location', async () => {
    const regionId = await newRegionId()
    const code = freshMunicipalityCode()
    const res = await onboard(code, regionId, 'hub')
    const tenant = expectOk<Tenant>(res, 201)
    expect(tenant).toMatchObject({ municipalityCode: code, name: findMunicipality(code)?.name, regionId, role: 'hub', status: 'active' })
    expect(res.headers.location).toBe(`/v1/tenants/${tenant.id}`)
    expectOk(await admin('GET', `/v1/tenants/${tenant.id}`))
  })

  it('keeps the CBS spelling of the name', async () => {
    const regionId = await newRegionId()
    expect(expectOk<Tenant>(await onboard('GM0518', regionId, 'member'), 201).name).toBe("'s-Gravenhage")
  })

  it('refuses a well-formed code that is not a municipality: 422 unknown-municipality', async () => {
    const regionId = await newRegionId()
    expectProblem(await onboard('GM9999', regionId, 'member'), 422, 'unknown-municipality')
  })

  it('refuses a municipality that no longer exists on the onboarding date (Weesp, merged into Amsterdam)', async () => {
    expect(findMunicipality('GM0457')).toMatchObject({ name: 'Weesp', validUntil: '2022-03-23', mergedInto: 'GM0363' })
    const regionId = await newRegionId()
    const p = expectProblem(await onboard('GM0457', regionId, 'member'), 422, 'unknown-municipality')
    expect(p.detail).toContain('GM0363')
  })

  it.each(['GM12', 'gm0518', 'XX0518', 'GM05189', ' GM0518'])('refuses the malformed code %j with 400', async (code) => {
    const regionId = await newRegionId()
    const p = expectProblem(await onboard(code, regionId, 'member'), 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'municipalityCode', code: 'invalid-format' })])
  })

  it('answers 404 for an unknown region', async () => {
    expectProblem(await onboard(freshMunicipalityCode(), randomUUID(), 'member'), 404, 'not-found')
  })
})

describe('one hub per region, any number of members, each municipality once', () => {
  it('refuses a second hub with 409 region-already-has-hub and accepts many members', async () => {
    const regionId = await newRegionId()
    expectOk(await onboard(freshMunicipalityCode(), regionId, 'hub'), 201)
    expectProblem(await onboard(freshMunicipalityCode(), regionId, 'hub'), 409, 'region-already-has-hub')
    for (let i = 0; i < 4; i += 1) expectOk(await onboard(freshMunicipalityCode(), regionId, 'member'), 201)
    const list = expectOk<{ items: Tenant[] }>(await admin('GET', `/v1/tenants?regionId=${regionId}`))
    expect(list.items.map((x) => x.role).sort()).toEqual(['hub', 'member', 'member', 'member', 'member'])
  })

  it('lets exactly one of two concurrent hub onboardings win', async () => {
    const regionId = await newRegionId()
    const results = await Promise.all([onboard(freshMunicipalityCode(), regionId, 'hub'), onboard(freshMunicipalityCode(), regionId, 'hub')])
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409])
    expectProblem(results.find((r) => r.statusCode === 409)!, 409, 'region-already-has-hub')
  })

  it('onboards a municipality once: 409 municipality-already-onboarded, in the same or another region', async () => {
    const [first, second] = [await newRegionId(), await newRegionId()]
    const code = freshMunicipalityCode()
    expectOk(await onboard(code, first, 'member'), 201)
    expectProblem(await onboard(code, first, 'member'), 409, 'municipality-already-onboarded')
    expectProblem(await onboard(code, second, 'hub'), 409, 'municipality-already-onboarded')
  })

  it('lets exactly one of two concurrent onboardings of the same municipality win', async () => {
    const [first, second] = [await newRegionId(), await newRegionId()]
    const code = freshMunicipalityCode()
    const results = await Promise.all([onboard(code, first, 'member'), onboard(code, second, 'member')])
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409])
    expectProblem(results.find((r) => r.statusCode === 409)!, 409, 'municipality-already-onboarded')
  })
})

describe('suspending a tenant', () => {
  let region: RegionFixture
  beforeAll(async () => {
    region = await newRegion(t.database.db)
  })

  it('makes its keys answer 403 tenant-suspended at once; reactivating restores access', async () => {
    const member = region.members[0]
    const own = `/v1/tenants/${member.id}`
    expectOk(await call(t.app, 'GET', own, member.key))
    expect(expectOk<Tenant>(await admin('PATCH', own, { status: 'suspended' })).status).toBe('suspended')
    expectProblem(await call(t.app, 'GET', own, member.key), 403, 'tenant-suspended')
    expectProblem(await call(t.app, 'GET', '/v1/tenants', member.key), 403, 'tenant-suspended')
    // Only that tenant: the other member is not affected.
    expectOk(await call(t.app, 'GET', `/v1/tenants/${region.members[1].id}`, region.members[1].key))
    expect(expectOk<Tenant>(await admin('GET', own)).status).toBe('suspended')

    expect(expectOk<Tenant>(await admin('PATCH', own, { status: 'active' })).status).toBe('active')
    expect(expectOk<Tenant>(await call(t.app, 'GET', own, member.key)).status).toBe('active')
  })

  it('suspends the staff of a suspended hub too', async () => {
    const hub = `/v1/tenants/${region.hub.id}`
    expectOk(await admin('PATCH', hub, { status: 'suspended' }))
    expectProblem(await call(t.app, 'GET', hub, region.lead.key), 403, 'tenant-suspended')
    expectProblem(await call(t.app, 'GET', hub, region.specialist.key), 403, 'tenant-suspended')
    expectProblem(await call(t.app, 'GET', hub, region.hub.key), 403, 'tenant-suspended')
    expectOk(await admin('PATCH', hub, { status: 'active' }))
    expectOk(await call(t.app, 'GET', hub, region.lead.key))
  })

  it('answers 404 for an unknown tenant and 400 for another status or an extra property', async () => {
    expectProblem(await admin('PATCH', `/v1/tenants/${randomUUID()}`, { status: 'suspended' }), 404, 'not-found')
    expectProblem(await admin('PATCH', `/v1/tenants/${region.members[1].id}`, { status: 'deleted' }), 400, 'invalid-request')
    expectProblem(await admin('PATCH', `/v1/tenants/${region.members[1].id}`, { status: 'active', role: 'hub' }), 400, 'invalid-request')
  })
})

describe('API keys', () => {
  let region: RegionFixture
  beforeAll(async () => {
    region = await newRegion(t.database.db)
  })
  const keysOf = (tenantId: string) => `/v1/tenants/${tenantId}/api-keys`
  const createKey = async (tenantId: string, payload: object = { name: 'member system' }): Promise<CreatedKey> => {
    const res = await admin('POST', keysOf(tenantId), payload)
    const created = expectOk<CreatedKey>(res, 201)
    expect(res.headers.location).toBe(`${keysOf(tenantId)}/${created.id}`)
    expect(res.headers['cache-control']).toBe('no-store')
    return created
  }
  const listKeys = async (tenantId: string) => expectOk<{ items: Array<ListedKey & Record<string, unknown>> }>(await admin('GET', keysOf(tenantId))).items

  it('are shown once, start with rbk_ and carry 256 bits of randomness', async () => {
    const created = await createKey(region.members[0].id)
    expect(created.key).toMatch(/^rbk_c_[A-Za-z0-9_-]{43}$/)
    expectOk(await call(t.app, 'GET', `/v1/tenants/${region.members[0].id}`, created.key))
    const listed = await listKeys(region.members[0].id)
    const mine = listed.find((k) => k.id === created.id)
    expect(mine).toMatchObject({ name: 'member system', prefix: created.key.slice(0, 12), revokedAt: null })
    for (const k of listed) {
      expect(k).not.toHaveProperty('key')
      expect(k).not.toHaveProperty('secretHash')
      expect(JSON.stringify(k)).not.toContain(created.key.slice(12))
    }
  })

  it('are stored only as a hash: no column of api_keys holds the secret', async () => {
    const created = await createKey(region.members[1].id)
    const { rows } = await sql<Record<string, unknown>>`select * from api_keys where id = ${created.id}`.execute(t.database.owner)
    expect(rows).toHaveLength(1)
    const row = rows[0]!
    expect(row.secret_hash).toEqual(createHash('sha256').update(created.key).digest())
    const secretPart = created.key.slice(12)
    for (const [column, value] of Object.entries(row)) {
      const text = Buffer.isBuffer(value) ? `${value.toString('utf8')} ${value.toString('base64url')}` : JSON.stringify(value)
      expect(text, column).not.toContain(secretPart)
    }
    const { rows: everywhere } = await sql<{ n: number }>`
      select count(*)::int as n from api_keys k where position(${secretPart} in k::text) > 0`.execute(t.database.owner)
    expect(everywhere[0]?.n).toBe(0)
  })

  it('get the defaults of their principal kind when created without scopes', async () => {
    expect((await createKey(region.members[0].id)).scopes.sort()).toEqual([...DEFAULT_SCOPES.memberClient].sort())
    expect((await createKey(region.hub.id)).scopes.sort()).toEqual([...DEFAULT_SCOPES.hubClient].sort())
    expect(DEFAULT_SCOPES.memberClient).not.toContain('tenants:admin')
    expect(DEFAULT_SCOPES.hubClient).not.toContain('tenants:admin')
    // A staff member's personal key gets the staff defaults; a lead's adds settlement and webhooks.
    const hubKeys = await listKeys(region.hub.id)
    const personal = hubKeys.filter((k) => k.kind === 'staff')
    expect(personal.map((k) => k.staffId).sort()).toEqual([region.lead.id, region.specialist.id].sort())
    for (const k of personal) {
      const expected = k.staffId === region.lead.id ? DEFAULT_SCOPES.lead : DEFAULT_SCOPES.staff
      expect((k.scopes as string[]).sort()).toEqual([...expected].sort())
    }
    expect(DEFAULT_SCOPES.memberClient).toContain('settlement:write')
  })

  it('keep exactly the scopes asked for, never tenants:admin for a tenant (422 scope-not-allowed)', async () => {
    expect((await createKey(region.members[0].id, { name: 'read only', scopes: ['cases:read'] })).scopes).toEqual(['cases:read'])
    const res = await admin('POST', keysOf(region.members[0].id), { name: 'sneaky', scopes: ['cases:read', 'tenants:admin'] })
    expectProblem(res, 422, 'scope-not-allowed')
    expectProblem(await admin('POST', keysOf(region.members[0].id), { name: 'x', scopes: ['everything'] }), 400, 'invalid-request')
    expectProblem(await admin('POST', keysOf(randomUUID()), { name: 'x' }), 404, 'not-found')
  })

  it('without the scope a route needs are refused with 403 insufficient-scope', async () => {
    // An admin key narrowed to one scope (written as the owner: the API never issues such a key).
    const secret = `rbk_a_narrow${randomUUID().replaceAll('-', '')}`
    await sql`insert into api_keys (kind, name, prefix, secret_hash, scopes)
      values ('admin', 'narrow admin', ${secret.slice(0, 12)}, ${createHash('sha256').update(secret).digest()}, ${['cases:read']})`.execute(t.database.owner)
    expectProblem(await call(t.app, 'GET', '/v1/regions', secret), 403, 'insufficient-scope')
    expectProblem(await call(t.app, 'POST', '/v1/regions', secret, { name: 'nope' }), 403, 'insufficient-scope')
    const limited = await createKey(region.members[0].id, { name: 'read only', scopes: ['cases:read'] })
    expectProblem(await call(t.app, 'GET', keysOf(region.members[0].id), limited.key), 403, 'insufficient-scope')
  })

  it('once revoked (204) are refused with 401 on the very next request', async () => {
    const member = region.members[0]
    const created = await createKey(member.id)
    expectOk(await call(t.app, 'GET', `/v1/tenants/${member.id}`, created.key))
    const revoked = await admin('DELETE', `${keysOf(member.id)}/${created.id}`)
    expect(revoked.statusCode).toBe(204)
    expect(revoked.body).toBe('')
    expectProblem(await call(t.app, 'GET', `/v1/tenants/${member.id}`, created.key), 401, 'unauthorized')
    expect((await listKeys(member.id)).find((k) => k.id === created.id)?.revokedAt).toEqual(expect.any(String))
    // The tenant's other keys keep working; revoking again is harmless.
    expectOk(await call(t.app, 'GET', `/v1/tenants/${member.id}`, member.key))
    expect((await admin('DELETE', `${keysOf(member.id)}/${created.id}`)).statusCode).toBe(204)
  })

  it('of another tenant, or unknown, are answered 404 on DELETE', async () => {
    const created = await createKey(region.members[0].id)
    expectProblem(await admin('DELETE', `${keysOf(region.members[1].id)}/${created.id}`), 404, 'not-found')
    expectProblem(await admin('DELETE', `${keysOf(region.members[0].id)}/${randomUUID()}`), 404, 'not-found')
    expectOk(await call(t.app, 'GET', `/v1/tenants/${region.members[0].id}`, created.key))
  })

  it('get lastUsedAt once used (written in a batch, at the latest when the app closes)', async () => {
    const member = region.members[1]
    const created = await createKey(member.id)
    expect((await listKeys(member.id)).find((k) => k.id === created.id)?.lastUsedAt).toBeNull()
    const before = Date.now()
    // A second process on the same database; closing it flushes what it recorded.
    const other = await startTestApp({}, { database: t.database })
    try {
      expectOk(await call(other.app, 'GET', `/v1/tenants/${member.id}`, created.key))
    } finally {
      await other.close()
    }
    const lastUsedAt = (await listKeys(member.id)).find((k) => k.id === created.id)?.lastUsedAt
    expect(lastUsedAt).toEqual(expect.any(String))
    expect(Date.parse(lastUsedAt!)).toBeGreaterThanOrEqual(before - 5_000)
    expect(Date.parse(lastUsedAt!)).toBeLessThanOrEqual(Date.now() + 5_000)
  })
})
