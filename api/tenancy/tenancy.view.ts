// Rows → the JSON shapes of openapi.yaml. Never a secret hash, never more than the contract says.
// Each view returns the contract's component type, so a view that drifts fails to compile.
import type { components } from '../../openapi/types.gen.js'
import type { AgreementRow, ApiKeyRow, RegionRow, StaffRow, TenantRow } from './tenancy.repository.js'

type Schemas = components['schemas']

export const regionView = (r: RegionRow): Schemas['Region'] => ({ id: r.id, name: r.name, createdAt: r.created_at.toISOString() })

export const tenantView = (t: TenantRow): Schemas['Tenant'] => ({
  id: t.id,
  municipalityCode: t.municipality_code,
  name: t.name,
  regionId: t.region_id,
  role: t.role,
  status: t.status,
  createdAt: t.created_at.toISOString(),
  updatedAt: t.updated_at.toISOString(),
})

export const apiKeyView = (k: ApiKeyRow): Schemas['ApiKey'] => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  kind: k.kind,
  staffId: k.staff_id,
  scopes: k.scopes,
  createdAt: k.created_at.toISOString(),
  lastUsedAt: k.last_used_at?.toISOString() ?? null,
  revokedAt: k.revoked_at?.toISOString() ?? null,
})

export const agreementView = (a: AgreementRow): Schemas['Agreement'] => ({
  id: a.id,
  memberTenantId: a.member_tenant_id,
  hubTenantId: a.hub_tenant_id,
  caseType: a.case_type,
  tariffCents: a.tariff_cents,
  validFrom: a.valid_from,
  validUntil: a.valid_until,
  updatedAt: a.updated_at.toISOString(),
})

export const staffView = (s: StaffRow): Schemas['Staff'] => ({
  id: s.id,
  hubTenantId: s.hub_tenant_id,
  name: s.name,
  email: s.email,
  role: s.role,
  skills: s.skills,
  status: s.status,
  createdAt: s.created_at.toISOString(),
})
