// Issue 3, tenancy, as tenants see it: who may set and read agreements, who manages staff, and that
// another tenant's object is answered 404 exactly like a missing one on every tenant-scoped endpoint.
import { randomUUID } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { newAdminKey, newRegion, type RegionFixture } from '../helpers/builders.js'
import { call, expectOk, expectProblem, newRegionWithoutHub, newStaff } from '../helpers/tenancy-builders.js'

let t: TestApp
let adminKey: string
let a: RegionFixture
let b: RegionFixture

beforeAll(async () => {
  t = await startTestApp()
  adminKey = await newAdminKey(t.database.db)
  a = await newRegion(t.database.db)
  b = await newRegion(t.database.db)
})
afterAll(async () => t.close())

interface Agreement {
  memberTenantId: string
  hubTenantId: string
  caseType: string
  tariffCents: number
  validFrom: string
  validUntil: string | null
}
interface Staff {
  id: string
  hubTenantId: string
  email: string
  role: string
  status: string
  key?: string
}

const agreement = (memberId: string, caseType = 'naturalisation') => `/v1/tenants/${memberId}/agreements/${caseType}`
const agreements = (tenantId: string) => `/v1/tenants/${tenantId}/agreements`
const staffOf = (hubId: string) => `/v1/tenants/${hubId}/staff`
const terms = { tariffCents: 51_200, validFrom: '2026-01-01' }
let emails = 0
const newStaffBody = (role: 'specialist' | 'lead' = 'specialist') => {
  emails += 1
  return { name: `Medewerker ${emails}`, email: `medewerker${emails}@hub.invalid`, role, skills: ['option'] }
}

describe('PUT agreements', () => {
  it('is allowed to the platform admin', async () => {
    const res = await call(t.app, 'PUT', agreement(a.members[0].id), adminKey, { ...terms, validUntil: '2026-12-31' })
    expect(expectOk<Agreement>(res)).toMatchObject({
      memberTenantId: a.members[0].id,
      hubTenantId: a.hub.id,
      caseType: 'naturalisation',
      tariffCents: 51_200,
      validFrom: '2026-01-01',
      validUntil: '2026-12-31',
    })
  })

  it('is allowed to a lead of the region hub, and replaces the agreement for that case type', async () => {
    const res = await call(t.app, 'PUT', agreement(a.members[1].id, 'option'), a.lead.key, { tariffCents: 9_900, validFrom: '2027-01-01' })
    expect(expectOk<Agreement>(res)).toMatchObject({ hubTenantId: a.hub.id, tariffCents: 9_900, validFrom: '2027-01-01', validUntil: null })
    const list = expectOk<{ items: Agreement[] }>(await call(t.app, 'GET', agreements(a.members[1].id), adminKey)).items
    expect(list.filter((x) => x.caseType === 'option')).toEqual([expect.objectContaining({ tariffCents: 9_900 })])
  })

  it('refuses a hub as member: 422 not-a-member', async () => {
    expectProblem(await call(t.app, 'PUT', agreement(a.hub.id), adminKey, terms), 422, 'not-a-member')
    expectProblem(await call(t.app, 'PUT', agreement(a.hub.id), a.lead.key, terms), 422, 'not-a-member')
  })

  it('refuses a member of a region without a hub: 422 region-has-no-hub', async () => {
    const lonely = await newRegionWithoutHub(t.database.db)
    expectProblem(await call(t.app, 'PUT', agreement(lonely.member.id), adminKey, terms), 422, 'region-has-no-hub')
  })

  it('refuses a specialist and the tenants own system keys: 403 forbidden', async () => {
    expectProblem(await call(t.app, 'PUT', agreement(a.members[0].id), a.specialist.key, terms), 403, 'forbidden')
    expectProblem(await call(t.app, 'PUT', agreement(a.members[0].id), a.hub.key, terms), 403, 'forbidden')
    expectProblem(await call(t.app, 'PUT', agreement(a.members[0].id), a.members[0].key, terms), 403, 'forbidden')
  })

  it('answers 404 to a lead of another region hub', async () => {
    expectProblem(await call(t.app, 'PUT', agreement(a.members[0].id), b.lead.key, terms), 404, 'not-found')
    expectProblem(await call(t.app, 'PUT', agreement(a.hub.id), b.lead.key, terms), 404, 'not-found')
    const list = expectOk<{ items: Agreement[] }>(await call(t.app, 'GET', agreements(a.members[0].id), adminKey)).items
    expect(list.every((x) => x.hubTenantId === a.hub.id)).toBe(true)
  })

  it('answers 404 for an unknown member, 400 for an unknown case type or validUntil before validFrom', async () => {
    const p = expectProblem(await call(t.app, 'PUT', agreement(a.members[0].id, 'passport'), adminKey, terms), 400, 'invalid-request')
    expect(p.invalidParams).toEqual([expect.objectContaining({ name: 'path.caseType' })])
    expectProblem(await call(t.app, 'PUT', agreement(randomUUID()), adminKey, terms), 404, 'not-found')
    const res = await call(t.app, 'PUT', agreement(a.members[0].id), adminKey, { ...terms, validUntil: '2025-12-31' })
    expect(expectProblem(res, 400, 'invalid-request').invalidParams).toEqual([expect.objectContaining({ name: 'validUntil' })])
  })
})

describe('GET agreements', () => {
  it('is answered to the admin, the member itself, its hub system and its hub lead', async () => {
    for (const key of [adminKey, a.members[0].key, a.hub.key, a.lead.key]) {
      const items = expectOk<{ items: Agreement[] }>(await call(t.app, 'GET', agreements(a.members[0].id), key)).items
      expect(items.length).toBeGreaterThan(0)
      expect(items.every((x) => x.memberTenantId === a.members[0].id && x.hubTenantId === a.hub.id)).toBe(true)
    }
  })

  it('answers 404 to another member of the same region and to any tenant of another region', async () => {
    for (const key of [a.members[1].key, b.members[0].key, b.hub.key, b.lead.key]) {
      expectProblem(await call(t.app, 'GET', agreements(a.members[0].id), key), 404, 'not-found')
    }
  })
})

describe('staff', () => {
  it('belongs to a hub: POST to a member tenant is 422 not-a-hub', async () => {
    expectProblem(await call(t.app, 'POST', staffOf(a.members[0].id), adminKey, newStaffBody()), 422, 'not-a-hub')
    expectProblem(await call(t.app, 'GET', staffOf(a.members[0].id), adminKey), 422, 'not-a-hub')
  })

  it('is created by a lead of that hub (201, personal key shown once) and that key works', async () => {
    const res = await call(t.app, 'POST', staffOf(a.hub.id), a.lead.key, newStaffBody())
    const staff = expectOk<Staff>(res, 201)
    expect(staff).toMatchObject({ hubTenantId: a.hub.id, role: 'specialist', status: 'active' })
    expect(staff.key).toMatch(/^rbk_s_/)
    expect(res.headers.location).toBe(`/v1/staff/${staff.id}`)
    expect(res.headers['cache-control']).toBe('no-store')
    const hub = expectOk<{ id: string }>(await call(t.app, 'GET', `/v1/tenants/${a.hub.id}`, staff.key!))
    expect(hub.id).toBe(a.hub.id)
    const listed = expectOk<{ items: Staff[] }>(await call(t.app, 'GET', staffOf(a.hub.id), a.lead.key)).items
    expect(listed.find((s) => s.id === staff.id)).not.toHaveProperty('key')
  })

  it('is refused to a specialist and to the hub system key: 403 forbidden', async () => {
    expectProblem(await call(t.app, 'POST', staffOf(a.hub.id), a.specialist.key, newStaffBody()), 403, 'forbidden')
    expectProblem(await call(t.app, 'POST', staffOf(a.hub.id), a.hub.key, newStaffBody()), 403, 'forbidden')
    expectProblem(await call(t.app, 'GET', staffOf(a.hub.id), a.specialist.key), 403, 'forbidden')
    expectProblem(await call(t.app, 'PATCH', `/v1/staff/${a.lead.id}`, a.specialist.key, { name: 'promoted' }), 403, 'forbidden')
  })

  it('has one e-mail address per hub: 409 staff-email-taken, whatever its case', async () => {
    const body = newStaffBody()
    expectOk(await call(t.app, 'POST', staffOf(a.hub.id), adminKey, body), 201)
    expectProblem(await call(t.app, 'POST', staffOf(a.hub.id), a.lead.key, body), 409, 'staff-email-taken')
    expectProblem(await call(t.app, 'POST', staffOf(a.hub.id), adminKey, { ...body, email: body.email.toUpperCase() }), 409, 'staff-email-taken')
    // Another hub may employ the same address.
    expectOk(await call(t.app, 'POST', staffOf(b.hub.id), b.lead.key, body), 201)
  })

  it('is updated by the admin or a lead of its hub, 404 for a lead of another hub', async () => {
    const staff = await newStaff(t.database.db, a.hub.id)
    expectProblem(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, b.lead.key, { role: 'lead' }), 404, 'not-found')
    expect(expectOk<Staff>(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, a.lead.key, { role: 'lead' })).role).toBe('lead')
    expect(expectOk<Staff>(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, adminKey, { role: 'specialist' })).role).toBe('specialist')
    expectProblem(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, a.lead.key, { hubTenantId: b.hub.id }), 400, 'invalid-request')
  })

  it('once deactivated has its personal key refused with 401; reactivated it works again', async () => {
    const staff = await newStaff(t.database.db, a.hub.id)
    expectOk(await call(t.app, 'GET', `/v1/tenants/${a.hub.id}`, staff.key))
    expect(expectOk<Staff>(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, a.lead.key, { status: 'inactive' })).status).toBe('inactive')
    expectProblem(await call(t.app, 'GET', `/v1/tenants/${a.hub.id}`, staff.key), 401, 'unauthorized')
    expectOk(await call(t.app, 'PATCH', `/v1/staff/${staff.id}`, a.lead.key, { status: 'active' }))
    expectOk(await call(t.app, 'GET', `/v1/tenants/${a.hub.id}`, staff.key))
  })
})

describe('authorisation', () => {
  it('a tenant principal lists only itself', async () => {
    for (const [key, id] of [
      [a.members[0].key, a.members[0].id],
      [a.hub.key, a.hub.id],
      [a.lead.key, a.hub.id],
    ] as const) {
      const items = expectOk<{ items: Array<{ id: string }> }>(await call(t.app, 'GET', '/v1/tenants', key)).items
      expect(items.map((x) => x.id)).toEqual([id])
      const filtered = expectOk<{ items: Array<{ id: string }> }>(await call(t.app, 'GET', `/v1/tenants?regionId=${b.regionId}`, key)).items
      expect(filtered).toEqual([])
    }
    const all = expectOk<{ items: Array<{ id: string }> }>(await call(t.app, 'GET', '/v1/tenants?limit=100', adminKey)).items
    expect(all.map((x) => x.id)).toEqual(expect.arrayContaining([a.hub.id, b.hub.id, a.members[0].id, b.members[1].id]))
  })

  it('another tenant is 404, also in the same region, and the admin sees every tenant', async () => {
    for (const other of [a.members[1].id, a.hub.id, b.members[0].id, b.hub.id]) {
      expectProblem(await call(t.app, 'GET', `/v1/tenants/${other}`, a.members[0].key), 404, 'not-found')
      expectOk(await call(t.app, 'GET', `/v1/tenants/${other}`, adminKey))
    }
  })

  it('admin-only routes refuse tenant keys (client and staff) with 403 insufficient-scope', async () => {
    const routes: Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object]> = [
      ['POST', '/v1/regions', { name: 'mine' }],
      ['GET', '/v1/regions'],
      ['GET', `/v1/regions/${a.regionId}`],
      ['POST', '/v1/tenants', { municipalityCode: 'GM0363', regionId: a.regionId, role: 'member' }],
      ['PATCH', `/v1/tenants/${a.members[0].id}`, { status: 'active' }],
      ['POST', `/v1/tenants/${a.members[0].id}/api-keys`, { name: 'more' }],
      ['GET', `/v1/tenants/${a.members[0].id}/api-keys`],
      ['DELETE', `/v1/tenants/${a.members[0].id}/api-keys/${randomUUID()}`],
      ['GET', '/metrics'],
    ]
    for (const key of [a.members[0].key, a.hub.key, a.lead.key]) {
      for (const [method, url, payload] of routes) {
        expectProblem(await call(t.app, method, url, key, payload), 403, 'insufficient-scope')
      }
    }
  })
})

describe('another tenant is answered exactly like a missing one', () => {
  const missing = randomUUID()
  const intruderTerms = { tariffCents: 1, validFrom: '2030-01-01' }
  const intruder = { name: 'Indringer', email: 'indringer@hub.invalid', role: 'lead', skills: [] }
  // [what, the request against region A's object, the same request against a missing object]
  const cases = (): Array<[string, () => Promise<LightMyRequestResponse>, () => Promise<LightMyRequestResponse>]> => [
    ['GET tenant', () => call(t.app, 'GET', `/v1/tenants/${a.members[0].id}`, b.members[0].key), () => call(t.app, 'GET', `/v1/tenants/${missing}`, b.members[0].key)],
    ['GET agreements', () => call(t.app, 'GET', agreements(a.members[0].id), b.hub.key), () => call(t.app, 'GET', agreements(missing), b.hub.key)],
    [
      'PUT agreement',
      () => call(t.app, 'PUT', agreement(a.members[0].id), b.lead.key, intruderTerms),
      () => call(t.app, 'PUT', agreement(missing), b.lead.key, intruderTerms),
    ],
    ['GET staff', () => call(t.app, 'GET', staffOf(a.hub.id), b.lead.key), () => call(t.app, 'GET', staffOf(missing), b.lead.key)],
    ['GET staff as a member', () => call(t.app, 'GET', staffOf(a.hub.id), a.members[0].key), () => call(t.app, 'GET', staffOf(missing), a.members[0].key)],
    ['POST staff', () => call(t.app, 'POST', staffOf(a.hub.id), b.lead.key, intruder), () => call(t.app, 'POST', staffOf(missing), b.lead.key, intruder)],
    [
      'PATCH staff',
      () => call(t.app, 'PATCH', `/v1/staff/${a.specialist.id}`, b.lead.key, { status: 'inactive' }),
      () => call(t.app, 'PATCH', `/v1/staff/${missing}`, b.lead.key, { status: 'inactive' }),
    ],
  ]

  it('on every tenant-scoped endpoint: 404 not-found, with the same detail as for a missing object', async () => {
    for (const [what, other, absent] of cases()) {
      const [o, m] = [await other(), await absent()]
      const po = expectProblem(o, 404, 'not-found')
      const pm = expectProblem(m, 404, 'not-found')
      expect({ what, detail: po.detail, title: po.title }).toEqual({ what, detail: pm.detail, title: pm.title })
    }
    // And nothing was changed on the way: the specialist is still active, no intruder's tariff or staff.
    expectOk(await call(t.app, 'GET', `/v1/tenants/${a.hub.id}`, a.specialist.key))
    const list = expectOk<{ items: Agreement[] }>(await call(t.app, 'GET', agreements(a.members[0].id), adminKey)).items
    expect(list.map((x) => x.tariffCents)).not.toContain(intruderTerms.tariffCents)
    const staff = expectOk<{ items: Staff[] }>(await call(t.app, 'GET', `${staffOf(a.hub.id)}?limit=100`, a.lead.key)).items
    expect(staff.map((s) => s.email)).not.toContain(intruder.email)
  })
})
