// Smaller holes of issue 9: the Bearer scheme is case-insensitive; a member of a suspended hub
// cannot submit to it (422 hub-suspended); requests with unknown keys are rate-limited per address.
import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { startTestApp, type TestApp } from '../helpers/app.js'
import { ADMIN, newRegion, type RegionFixture } from '../helpers/builders.js'
import { caseBody, countCases } from '../helpers/case-builders.js'
import { expectProblem } from '../helpers/tenancy-builders.js'

let t: TestApp
let region: RegionFixture

beforeAll(async () => {
  t = await startTestApp({ UNKNOWN_KEY_RATE_LIMIT_PER_MINUTE: '5' })
  region = await newRegion(t.database.db)
})
afterAll(async () => t.close())

describe('the Bearer scheme', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('%s is accepted', async (scheme) => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `${scheme} ${region.members[0].key}` } })
    expect(res.statusCode).toBe(200)
  })
  it('another scheme is still a 401', async () => {
    // From an address of its own: this file's app limits unknown keys to 5 a minute per address.
    const remoteAddress = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`
    const res = await t.app.inject({ method: 'GET', url: '/v1/cases', remoteAddress, headers: { authorization: `Basic ${region.members[0].key}` } })
    expectProblem(res, 401, 'unauthorized')
  })
})

describe('a suspended hub', () => {
  it('takes no submission from its members: 422 hub-suspended, and no case is stored', async () => {
    const other = await newRegion(t.database.db)
    const member = other.members[0]
    const before = await countCases(t.database.owner, member.id)
    await tenancy.updateTenantStatus(t.database.db, ADMIN, other.hub.id, { status: 'suspended' })
    const res = await t.app.inject({ method: 'POST', url: '/v1/cases', headers: { authorization: `Bearer ${member.key}` }, payload: caseBody() })
    expectProblem(res, 422, 'hub-suspended')
    expect(await countCases(t.database.owner, member.id)).toBe(before)
    await tenancy.updateTenantStatus(t.database.db, ADMIN, other.hub.id, { status: 'active' })
    const ok = await t.app.inject({ method: 'POST', url: '/v1/cases', headers: { authorization: `Bearer ${member.key}` }, payload: caseBody() })
    expect(ok.statusCode).toBe(201)
  })
})

describe('unknown keys', () => {
  it('are rate-limited per client address: 401 first, then 429 with Retry-After; another address and valid keys are unaffected', async () => {
    const address = `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`
    const guess = (remoteAddress: string, i: number) =>
      t.app.inject({ method: 'GET', url: '/v1/cases', remoteAddress, headers: { authorization: `Bearer rbk_c_guess${String(i).padStart(30, '0')}` } })
    const statuses: number[] = []
    for (let i = 0; i < 8; i += 1) statuses.push((await guess(address, i)).statusCode)
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401])
    expect(statuses.slice(5)).toEqual([429, 429, 429])
    const limited = await guess(address, 99)
    expectProblem(limited, 429, 'rate-limited')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect((await guess(`${address.slice(0, address.lastIndexOf('.'))}.0`, 1)).statusCode).toBe(401)
    const valid = await t.app.inject({ method: 'GET', url: '/v1/cases', remoteAddress: address, headers: { authorization: `Bearer ${region.members[0].key}` } })
    expect(valid.statusCode).toBe(200)
  })
})
