// Fixtures for the settlement tests: billing details through PATCH /v1/tenants, cases through the
// HTTP API and the intake worker, and service charges through the same function the lifecycle calls.
import type { FastifyInstance } from 'fastify'
import { expect } from 'vitest'
import { withTenantOf, type Db } from '../../api/db/database.js'
import { CASE_TYPE_CODES } from '../../api/domain/case-types.js'
import { chargeOnEnteringReview } from '../../api/settlement/fees.service.js'
import * as tenancy from '../../api/tenancy/tenancy.service.js'
import { ADMIN, newTenant, type RegionFixture, type TenantFixture } from './builders.js'
import { submitCase, toIntake, type CaseJson } from './case-builders.js'
import { call } from './tenancy-builders.js'

export const IBAN = 'NL91ABNA0417164300'

let oins = 0
export const billingBody = () => {
  oins += 1
  return {
    oin: `00000001${String(100_000_000 + oins).padStart(9, '0')}000`,
    address: { street: 'Stadhuisplein', houseNumber: String(oins), postalCode: '3811 LM', city: 'Amersfoort' },
    iban: IBAN,
    email: `facturen${oins}@gemeente.invalid`,
  }
}

export async function setBilling(app: FastifyInstance, adminKey: string, tenantId: string): Promise<void> {
  const res = await call(app, 'PATCH', `/v1/tenants/${tenantId}`, adminKey, { billing: billingBody() })
  expect(res.statusCode, res.body).toBe(200)
}

/** One more member of the region, with agreements for every case type (tariff 450 euro). */
export async function addMember(db: Db, region: RegionFixture, tariffCents = 45_000): Promise<TenantFixture> {
  const m = await newTenant(db, region.regionId, 'member')
  for (const caseType of CASE_TYPE_CODES) await tenancy.putAgreement(db, ADMIN, m.id, caseType, { tariffCents, validFrom: '2020-01-01' })
  return m
}

/** A submitted case moved to intake (not yet in review, so not charged yet). */
export async function caseInIntake(app: FastifyInstance, db: Db, memberKey: string, caseType: 'naturalisation' | 'option' | 'first_registration' = 'naturalisation'): Promise<CaseJson> {
  const c = await submitCase(app, memberKey, { caseType })
  expect(await toIntake(db, c.hubTenantId, c.id)).toBe('routed')
  return c
}

/** Charges a case as if it entered review on `day` — the lifecycle's own hook, with a chosen date. */
export async function chargeOn(db: Db, c: CaseJson, day: string): Promise<void> {
  await withTenantOf(db, c.hubTenantId, async (trx) => {
    const row = await trx.selectFrom('cases').select(['id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'reference']).where('id', '=', c.id).executeTakeFirstOrThrow()
    await chargeOnEnteringReview(trx, row, day)
  })
}
