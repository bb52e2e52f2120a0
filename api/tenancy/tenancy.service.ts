// Regions, tenants, keys, agreements and staff: the rules and the authorisation ("who" column of
// API.md). Another tenant's object is answered 404, exactly like a missing one.
import { invalidatePrincipals } from '../auth/principal-cache.js'
import { generateApiKey, hashApiKey, keyPrefix } from '../auth/keys.js'
import { inScope, isAdmin, isLeadOf, requireAdmin, type Principal } from '../auth/principal.js'
import { DEFAULT_SCOPES, type Scope } from '../domain/scopes.js'
import { withAdmin, type Db } from '../db/database.js'
import { uniqueViolation } from '../db/errors.js'
import { isCaseTypeCode, type CaseTypeCode } from '../domain/case-types.js'
import { municipalityOn } from '../domain/municipalities.js'
import { invalidFields, notFound, DomainError } from '../domain/errors.js'
import { parsePage, toPage, type PageQuery } from '../pagination.js'
import { dutchDate } from '../time.js'
import { setBilling, type BillingBody } from '../settlement/fees.service.js'
import * as repo from './tenancy.repository.js'
import { agreementView, apiKeyView, regionView, staffView, tenantView } from './tenancy.view.js'

export async function createRegion(db: Db, principal: Principal, input: { name: string }) {
  requireAdmin(principal)
  return regionView(await withAdmin(db, (trx) => repo.insertRegion(trx, input.name)))
}

export async function listRegions(db: Db, principal: Principal, query: PageQuery) {
  requireAdmin(principal)
  const page = parsePage(query)
  return toPage(await withAdmin(db, (trx) => repo.listRegions(trx, page)), page, regionView)
}

export async function getRegion(db: Db, principal: Principal, regionId: string) {
  const region = await inScope(db, principal, (trx) => repo.findRegion(trx, regionId))
  if (!region) throw notFound('region')
  return regionView(region)
}

export async function onboardTenant(
  db: Db,
  principal: Principal,
  input: { municipalityCode: string; regionId: string; role: 'hub' | 'member' },
  today: string = dutchDate(),
) {
  requireAdmin(principal)
  const known = municipalityOn(input.municipalityCode, today)
  if (known.status !== 'exists') {
    const why =
      known.status === 'ceased'
        ? `ceased on ${known.municipality.validUntil}; merged into ${known.mergedInto.join(', ')}`
        : known.status === 'not-yet'
          ? `exists only from ${known.municipality.validFrom}`
          : 'is not in the CBS list of municipalities'
    throw new DomainError('refused', 'unknown-municipality', `${input.municipalityCode} ${why}`)
  }
  try {
    const tenant = await withAdmin(db, async (trx) => {
      if (!(await repo.findRegion(trx, input.regionId))) throw notFound('region')
      if (await repo.findTenantByCode(trx, input.municipalityCode)) throw alreadyOnboarded(input.municipalityCode)
      if (input.role === 'hub' && (await repo.findHubOfRegion(trx, input.regionId))) throw regionHasHub()
      return repo.insertTenant(trx, {
        region_id: input.regionId,
        municipality_code: input.municipalityCode,
        name: known.municipality.name,
        role: input.role,
      })
    })
    return tenantView(tenant)
  } catch (err) {
    // Two concurrent onboardings: the database's unique keys decide, with the same answers.
    const constraint = uniqueViolation(err)
    if (constraint === 'tenants_municipality_code_key') throw alreadyOnboarded(input.municipalityCode)
    if (constraint === 'tenants_one_hub_per_region') throw regionHasHub()
    throw err
  }
}

const alreadyOnboarded = (code: string) => new DomainError('conflict', 'municipality-already-onboarded', `${code} is already a tenant`)
const regionHasHub = () => new DomainError('conflict', 'region-already-has-hub', 'this region already has a hub municipality')

export async function listTenants(db: Db, principal: Principal, query: PageQuery & { regionId?: string }) {
  const page = parsePage(query)
  const rows = await inScope(db, principal, (trx) =>
    repo.listTenants(trx, page, {
      ...(query.regionId ? { regionId: query.regionId } : {}),
      ...(isAdmin(principal) ? {} : { onlyId: principal.tenantId }),
    }),
  )
  return toPage(rows, page, tenantView)
}

export async function getTenant(db: Db, principal: Principal, tenantId: string) {
  if (!isAdmin(principal) && principal.tenantId !== tenantId) throw notFound('tenant')
  const tenant = await inScope(db, principal, (trx) => repo.findTenant(trx, tenantId))
  if (!tenant) throw notFound('tenant')
  return tenantView(tenant)
}

export async function updateTenantStatus(
  db: Db,
  principal: Principal,
  tenantId: string,
  input: { status?: 'active' | 'suspended'; billing?: BillingBody },
) {
  requireAdmin(principal)
  const updated = await withAdmin(db, async (trx) => {
    let tenant = input.status ? await repo.setTenantStatus(trx, tenantId, input.status) : await repo.findTenant(trx, tenantId)
    if (!tenant) throw notFound('tenant')
    // Billing details (settlement): validated there, stored beside the tenant.
    const billing = input.billing ? await setBilling(trx, tenant, input.billing) : undefined
    if (input.billing) tenant = (await repo.findTenant(trx, tenantId)) ?? tenant
    return { ...tenantView(tenant), ...(billing === undefined ? {} : { billing }) }
  })
  // A suspension applies from this process's next request (other processes hear it: principal-cache.ts).
  if (input.status) invalidatePrincipals()
  return updated
}

export async function createApiKey(db: Db, principal: Principal, tenantId: string, input: { name: string; scopes?: Scope[] }) {
  requireAdmin(principal)
  if (input.scopes?.includes('tenants:admin')) {
    throw new DomainError('refused', 'scope-not-allowed', 'tenants:admin belongs to the platform administrator only')
  }
  return withAdmin(db, async (trx) => {
    const tenant = await repo.findTenant(trx, tenantId)
    if (!tenant) throw notFound('tenant')
    const scopes = input.scopes ?? (tenant.role === 'hub' ? DEFAULT_SCOPES.hubClient : DEFAULT_SCOPES.memberClient)
    const secret = generateApiKey('client')
    const row = await repo.insertApiKey(trx, {
      kind: 'client',
      tenant_id: tenantId,
      staff_id: null,
      name: input.name,
      prefix: secret.prefix,
      secret_hash: secret.hash,
      scopes: [...scopes],
    })
    return { id: row.id, name: row.name, scopes: row.scopes, key: secret.key, createdAt: row.created_at.toISOString() }
  })
}

export async function listApiKeys(db: Db, principal: Principal, tenantId: string, query: PageQuery) {
  requireAdmin(principal)
  const page = parsePage(query)
  return withAdmin(db, async (trx) => {
    if (!(await repo.findTenant(trx, tenantId))) throw notFound('tenant')
    return toPage(await repo.listApiKeys(trx, tenantId, page), page, apiKeyView)
  })
}

export async function revokeApiKey(db: Db, principal: Principal, tenantId: string, keyId: string): Promise<void> {
  requireAdmin(principal)
  const found = await withAdmin(db, (trx) => repo.revokeApiKey(trx, tenantId, keyId))
  invalidatePrincipals()
  if (!found) throw notFound('API key')
}

/** BOOTSTRAP_ADMIN_TOKEN: make sure a platform-admin key with exactly that secret exists. */
export async function ensureAdminKey(db: Db, token: string): Promise<void> {
  await withAdmin(db, (trx) =>
    repo.ensureApiKey(trx, {
      kind: 'admin',
      tenant_id: null,
      staff_id: null,
      name: 'bootstrap admin',
      prefix: keyPrefix(token),
      secret_hash: hashApiKey(token),
      scopes: [...DEFAULT_SCOPES.admin],
    }),
  )
}

/** A new platform-admin key (the demo seed); the secret is returned once. */
export async function createAdminKey(db: Db, name: string): Promise<string> {
  const secret = generateApiKey('admin')
  await withAdmin(db, (trx) =>
    repo.insertApiKey(trx, {
      kind: 'admin',
      tenant_id: null,
      staff_id: null,
      name,
      prefix: secret.prefix,
      secret_hash: secret.hash,
      scopes: [...DEFAULT_SCOPES.admin],
    }),
  )
  return secret.key
}

export async function putAgreement(
  db: Db,
  principal: Principal,
  memberTenantId: string,
  caseType: string,
  input: { tariffCents: number; validFrom: string; validUntil?: string | null },
) {
  if (!isCaseTypeCode(caseType)) throw notFound('case type')
  if (input.validUntil && input.validUntil < input.validFrom) {
    throw invalidFields([{ name: 'validUntil', code: 'before-valid-from', reason: 'must be on or after validFrom' }])
  }
  if (!isAdmin(principal) && !(principal.kind === 'staff' && principal.staffRole === 'lead')) {
    throw new DomainError('forbidden', 'forbidden', 'only the platform administrator or a lead of the hub sets agreements')
  }
  const row = await inScope(db, principal, async (trx) => {
    const member = await repo.findTenant(trx, memberTenantId)
    if (!member) throw notFound('tenant')
    if (member.role !== 'member') throw new DomainError('refused', 'not-a-member', `${member.municipality_code} is a hub; only members have agreements`)
    const hub = await repo.findHubOfRegion(trx, member.region_id)
    if (!hub) throw new DomainError('refused', 'region-has-no-hub', 'the region has no hub yet to delegate to')
    if (!isAdmin(principal) && !isLeadOf(principal, hub.id)) throw notFound('tenant')
    return repo.upsertAgreement(trx, {
      hub_tenant_id: hub.id,
      member_tenant_id: member.id,
      case_type: caseType,
      tariff_cents: BigInt(input.tariffCents),
      valid_from: input.validFrom,
      valid_until: input.validUntil ?? null,
    })
  })
  return agreementView(row)
}

export async function listAgreements(db: Db, principal: Principal, tenantId: string) {
  const rows = await inScope(db, principal, async (trx) => {
    const tenant = await repo.findTenant(trx, tenantId)
    if (!tenant) throw notFound('tenant')
    if (!isAdmin(principal)) {
      const own = principal.tenantId === tenant.id
      const itsHub = principal.tenantRole === 'hub' && tenant.region_id === principal.regionId && tenant.role === 'member'
      if (!own && !itsHub) throw notFound('tenant')
    }
    return repo.listAgreements(trx, tenantId)
  })
  return { items: rows.map(agreementView) }
}

const requireAdminOrLead = (principal: Principal, hubTenantId: string): void => {
  if (isAdmin(principal) || isLeadOf(principal, hubTenantId)) return
  if (principal.tenantId !== hubTenantId) throw notFound('tenant')
  throw new DomainError('forbidden', 'forbidden', 'only the platform administrator or a lead of this hub manages staff')
}

export async function createStaff(
  db: Db,
  principal: Principal,
  hubTenantId: string,
  input: { name: string; email: string; role: 'specialist' | 'lead'; skills: CaseTypeCode[] },
) {
  requireAdminOrLead(principal, hubTenantId)
  try {
    return await inScope(db, principal, async (trx) => {
      const hub = await repo.findTenant(trx, hubTenantId)
      if (!hub) throw notFound('tenant')
      if (hub.role !== 'hub') throw new DomainError('refused', 'not-a-hub', `${hub.municipality_code} is a member; staff belong to a hub`)
      const staff = await repo.insertStaff(trx, { hub_tenant_id: hub.id, name: input.name, email: input.email.toLowerCase(), role: input.role, skills: input.skills })
      const secret = generateApiKey('staff')
      await repo.insertApiKey(trx, {
        kind: 'staff',
        tenant_id: hub.id,
        staff_id: staff.id,
        name: `personal key of staff ${staff.id}`,
        prefix: secret.prefix,
        secret_hash: secret.hash,
        scopes: [...(input.role === 'lead' ? DEFAULT_SCOPES.lead : DEFAULT_SCOPES.staff)],
      })
      return { ...staffView(staff), key: secret.key }
    })
  } catch (err) {
    if (uniqueViolation(err) === 'staff_hub_tenant_id_email_key') {
      throw new DomainError('conflict', 'staff-email-taken', 'this hub already has staff with that e-mail address')
    }
    throw err
  }
}

export async function listStaff(db: Db, principal: Principal, hubTenantId: string, query: PageQuery) {
  requireAdminOrLead(principal, hubTenantId)
  const page = parsePage(query)
  return inScope(db, principal, async (trx) => {
    const hub = await repo.findTenant(trx, hubTenantId)
    if (!hub) throw notFound('tenant')
    if (hub.role !== 'hub') throw new DomainError('refused', 'not-a-hub', `${hub.municipality_code} is a member; staff belong to a hub`)
    return toPage(await repo.listStaff(trx, hubTenantId, page), page, staffView)
  })
}

export async function updateStaff(
  db: Db,
  principal: Principal,
  staffId: string,
  input: Partial<{ name: string; role: 'specialist' | 'lead'; skills: CaseTypeCode[]; status: 'active' | 'inactive' }>,
) {
  const row = await inScope(db, principal, async (trx) => {
    const staff = await repo.findStaff(trx, staffId)
    if (!staff) throw notFound('staff')
    requireAdminOrLead(principal, staff.hub_tenant_id)
    return repo.updateStaff(trx, staffId, input)
  })
  invalidatePrincipals()
  if (!row) throw notFound('staff')
  return staffView(row)
}
