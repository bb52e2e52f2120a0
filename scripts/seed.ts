// The demo region for a newcomer's first minute: a hub (Zwolle) and two members (Dalfsen,
// Staphorst), each with a client key, agreements for every case type, and a lead and a specialist.
// Built through the same service functions as the API uses.
import { sql } from 'kysely'
import type { Principal } from '../api/auth/principal.js'
import { DEFAULT_SCOPES } from '../api/domain/scopes.js'
import { withAdmin, type Db } from '../api/db/database.js'
import { CASE_TYPE_CODES } from '../api/domain/case-types.js'
import * as tenancy from '../api/tenancy/tenancy.service.js'
import * as resources from '../api/appointments/resources.service.js'
import { authenticate } from '../api/auth/authenticate.js'
import { DomainError } from '../api/domain/errors.js'

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

/**
 * What the demo needs to be worked at once, for `npm start` only (the benchmarks build their own):
 * billing details of the hub and members (a settlement asks for them), a location in Zwolle with
 * office hours for the lead and the specialist (intake interviews and option confirmations get
 * booked), and a ceremony session in the coming weeks. Demo values: the IBANs pass the check digit,
 * the OINs are made up.
 */
export async function seedDemoWorkday(db: Db, demo: DemoRegion, today: string): Promise<void> {
  const admin: Principal = { kind: 'admin', keyId: 'seed', scopes: new Set(DEFAULT_SCOPES.admin) }
  const tenants = [
    { id: demo.hub.id, iban: 'NL58BNGH0417164300', street: 'Grote Kerkplein', houseNumber: '15', postalCode: '8011 PK', city: 'Zwolle' },
    { id: demo.members[0]!.id, iban: 'NL66BNGH0123456789', street: 'Kerkstraat', houseNumber: '15', postalCode: '7721 CX', city: 'Dalfsen' },
    { id: demo.members[1]!.id, iban: 'NL18BNGH0987654321', street: 'Gemeenteplein', houseNumber: '1', postalCode: '7951 HJ', city: 'Staphorst' },
  ]
  for (const [i, t] of tenants.entries()) {
    await tenancy.updateTenantStatus(db, admin, t.id, {
      billing: {
        oin: `0000000100${String(9_000_000_001 + i)}`,
        address: { street: t.street, houseNumber: t.houseNumber, postalCode: t.postalCode, city: t.city },
        iban: t.iban,
        email: `administratie@${t.city.toLowerCase()}.demo.invalid`,
      },
    })
  }
  const deps = { db }
  const location = 'stadskantoor-zwolle'
  await resources.putLocation(deps, admin, demo.hub.id, location, {
    name: 'Stadskantoor Zwolle',
    municipalityCode: demo.hub.code,
    address: { street: 'Lübeckplein', houseNumber: '2', postalCode: '8017 JZ', city: 'Zwolle' },
  })
  const lead = await authenticate(db, `Bearer ${demo.lead.key}`)
  const hours = (windows: Array<[number, string, string]>) => ({
    weekly: windows.map(([weekday, start, end]) => ({ weekday, start, end, locationCode: location })),
    absences: [],
  })
  await resources.putAvailability(deps, lead, demo.specialist.id, hours([[1, '09:00', '12:30'], [2, '09:00', '12:30'], [3, '13:00', '16:30'], [4, '09:00', '12:30'], [5, '09:00', '12:00']]))
  await resources.putAvailability(deps, lead, demo.lead.id, hours([[2, '13:00', '16:30'], [4, '13:00', '16:30']]))
  // A ceremony session on the first Thursday at least three weeks ahead that is a working day
  // (the service refuses others) outside the last week of December.
  for (let days = 21; days < 63; days += 7) {
    const date = new Date(`${today}T12:00:00Z`)
    date.setUTCDate(date.getUTCDate() + days + ((4 - date.getUTCDay() + 7) % 7))
    const day = date.toISOString().slice(0, 10)
    if (day.slice(5) >= '12-24') continue
    try {
      await resources.createCeremony(deps, lead, demo.hub.id, { date: day, start: '14:00', end: '15:30', locationCode: location, capacity: 20 })
      return
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
    }
  }
}
