// Test data through the same service functions production uses (STYLE.md §21).
import type { Principal } from '../../api/auth/principal.js'
import { DEFAULT_SCOPES } from '../../api/domain/scopes.js'
import type { Db } from '../../api/db/database.js'
import { CASE_TYPE_CODES } from '../../api/domain/case-types.js'
import { MUNICIPALITIES } from '../../api/domain/municipalities.js'
import * as tenancy from '../../api/tenancy/tenancy.service.js'

export const ADMIN: Principal = { kind: 'admin', keyId: '00000000-0000-4000-8000-000000000000', scopes: new Set(DEFAULT_SCOPES.admin) }

const ACTIVE_CODES = MUNICIPALITIES.filter((m) => m.status === 'active').map((m) => m.code)
let next = 0
/** A municipality code not used yet in this test file's database. */
export const freshMunicipalityCode = (): string => {
  const code = ACTIVE_CODES[next % ACTIVE_CODES.length]!
  next += 1
  return code
}

export interface TenantFixture {
  id: string
  code: string
  key: string
}

export interface RegionFixture {
  regionId: string
  hub: TenantFixture
  members: [TenantFixture, TenantFixture]
  lead: { id: string; key: string }
  specialist: { id: string; key: string }
}

export async function newAdminKey(db: Db): Promise<string> {
  return tenancy.createAdminKey(db, 'test admin')
}

export async function newTenant(db: Db, regionId: string, role: 'hub' | 'member'): Promise<TenantFixture> {
  const tenant = await tenancy.onboardTenant(db, ADMIN, { municipalityCode: freshMunicipalityCode(), regionId, role })
  const key = await tenancy.createApiKey(db, ADMIN, tenant.id, { name: 'test client' })
  return { id: tenant.id, code: tenant.municipalityCode, key: key.key }
}

/** A region with a hub, two members with agreements for every case type, a lead and a specialist. */
export async function newRegion(db: Db, options: { agreementsFrom?: string } = {}): Promise<RegionFixture> {
  const region = await tenancy.createRegion(db, ADMIN, { name: `test region ${next}` })
  const hub = await newTenant(db, region.id, 'hub')
  const members: [TenantFixture, TenantFixture] = [await newTenant(db, region.id, 'member'), await newTenant(db, region.id, 'member')]
  for (const m of members) {
    for (const caseType of CASE_TYPE_CODES) {
      await tenancy.putAgreement(db, ADMIN, m.id, caseType, { tariffCents: 45_000, validFrom: options.agreementsFrom ?? '2020-01-01' })
    }
  }
  const lead = await tenancy.createStaff(db, ADMIN, hub.id, { name: 'Lead', email: `lead${next}@hub.invalid`, role: 'lead', skills: [...CASE_TYPE_CODES] })
  const specialist = await tenancy.createStaff(db, ADMIN, hub.id, {
    name: 'Specialist',
    email: `specialist${next}@hub.invalid`,
    role: 'specialist',
    skills: ['naturalisation', 'option'],
  })
  return { regionId: region.id, hub, members, lead: { id: lead.id, key: lead.key }, specialist: { id: specialist.id, key: specialist.key } }
}
