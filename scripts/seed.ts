// The demo region for a newcomer's first minute: a hub (Zwolle) and two members (Dalfsen,
// Staphorst), each with a client key, agreements for every case type, and a lead and a specialist.
// Built through the same service functions as the API uses.
import { sql } from 'kysely'
import type { Principal } from '../api/auth/principal.js'
import { DEFAULT_SCOPES } from '../api/domain/scopes.js'
import { withAdmin, type Db } from '../api/db/database.js'
import { CASE_TYPE_CODES } from '../api/domain/case-types.js'
import * as tenancy from '../api/tenancy/tenancy.service.js'

export interface DemoRegion {
  adminKey: string
  hub: { id: string; code: string; name: string; key: string }
  members: Array<{ id: string; code: string; name: string; key: string }>
  lead: { id: string; key: string }
  specialist: { id: string; key: string }
}

/** True when no tenant exists yet: the demo is seeded only on an empty database. */
export async function isEmpty(db: Db): Promise<boolean> {
  const { rows } = await withAdmin(db, (trx) => sql<{ n: number }>`select count(*)::int as n from tenants`.execute(trx))
  return (rows[0]?.n ?? 0) === 0
}

export async function seedDemo(db: Db, validFrom: string): Promise<DemoRegion> {
  const adminKey = await tenancy.createAdminKey(db, 'demo admin')
  const admin: Principal = { kind: 'admin', keyId: 'seed', scopes: new Set(DEFAULT_SCOPES.admin) }
  const region = await tenancy.createRegion(db, admin, { name: 'Regio IJssel-Vecht (demo)' })
  const onboard = async (code: string, role: 'hub' | 'member') => {
    const tenant = await tenancy.onboardTenant(db, admin, { municipalityCode: code, regionId: region.id, role })
    const key = await tenancy.createApiKey(db, admin, tenant.id, { name: `${tenant.name} demo client` })
    return { id: tenant.id, code, name: tenant.name, key: key.key }
  }
  const hub = await onboard('GM0193', 'hub')
  const members = [await onboard('GM0148', 'member'), await onboard('GM0180', 'member')]
  for (const member of members) {
    for (const caseType of CASE_TYPE_CODES) {
      await tenancy.putAgreement(db, admin, member.id, caseType, { tariffCents: 45_000, validFrom })
    }
  }
  const lead = await tenancy.createStaff(db, admin, hub.id, {
    name: 'Demo Lead',
    email: 'lead@zwolle.demo.invalid',
    role: 'lead',
    skills: [...CASE_TYPE_CODES],
  })
  const specialist = await tenancy.createStaff(db, admin, hub.id, {
    name: 'Demo Specialist',
    email: 'specialist@zwolle.demo.invalid',
    role: 'specialist',
    skills: ['naturalisation', 'option'],
  })
  return { adminKey, hub, members, lead: { id: lead.id, key: lead.key }, specialist: { id: specialist.id, key: specialist.key } }
}
