// All SQL of the tenancy feature. Plain functions taking the executor first (STYLE.md §9); they run
// inside a transaction that has either a tenant or the admin setting.
import type { Insertable, Selectable, Updateable } from 'kysely'
import type { Trx } from '../db/database.js'
import { newestFirstPage } from '../db/keyset.js'
import type { AgreementsTable, ApiKeysTable, RegionsTable, StaffTable, TenantsTable } from '../db/schema.js'
import type { Page } from '../pagination.js'

export type RegionRow = Selectable<RegionsTable>
export type TenantRow = Selectable<TenantsTable>
export type StaffRow = Selectable<StaffTable>
export type ApiKeyRow = Selectable<ApiKeysTable>
export type AgreementRow = Selectable<AgreementsTable>

export const insertRegion = (trx: Trx, name: string): Promise<RegionRow> =>
  trx.insertInto('regions').values({ name }).returningAll().executeTakeFirstOrThrow()

export const findRegion = (trx: Trx, id: string): Promise<RegionRow | undefined> =>
  trx.selectFrom('regions').selectAll().where('id', '=', id).executeTakeFirst()

export const listRegions = (trx: Trx, page: Page): Promise<RegionRow[]> =>
  trx.selectFrom('regions').selectAll().$call(newestFirstPage(page)).execute()

export const findTenant = (trx: Trx, id: string): Promise<TenantRow | undefined> =>
  trx.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst()

export const findTenantByCode = (trx: Trx, code: string): Promise<TenantRow | undefined> =>
  trx.selectFrom('tenants').selectAll().where('municipality_code', '=', code).executeTakeFirst()

export const findHubOfRegion = (trx: Trx, regionId: string): Promise<TenantRow | undefined> =>
  trx.selectFrom('tenants').selectAll().where('region_id', '=', regionId).where('role', '=', 'hub').executeTakeFirst()

export const insertTenant = (
  trx: Trx,
  values: { region_id: string; municipality_code: string; name: string; role: 'hub' | 'member' },
): Promise<TenantRow> => trx.insertInto('tenants').values(values).returningAll().executeTakeFirstOrThrow()

export const listTenants = (trx: Trx, page: Page, filter: { regionId?: string; onlyId?: string }): Promise<TenantRow[]> => {
  let q = trx.selectFrom('tenants').selectAll()
  if (filter.regionId) q = q.where('region_id', '=', filter.regionId)
  if (filter.onlyId) q = q.where('id', '=', filter.onlyId)
  return q.$call(newestFirstPage(page)).execute()
}

export const setTenantStatus = (trx: Trx, id: string, status: 'active' | 'suspended'): Promise<TenantRow | undefined> =>
  trx.updateTable('tenants').set({ status, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst()

export const insertApiKey = (
  trx: Trx,
  values: Insertable<ApiKeysTable>,
): Promise<ApiKeyRow> => trx.insertInto('api_keys').values(values).returningAll().executeTakeFirstOrThrow()

/** Inserts the key unless one with the same hash exists (the bootstrap admin key, on every start). */
export const ensureApiKey = async (
  trx: Trx,
  values: Insertable<ApiKeysTable> & { kind: 'admin'; tenant_id: null; staff_id: null },
): Promise<void> => {
  await trx.insertInto('api_keys').values(values).onConflict((oc) => oc.column('secret_hash').doNothing()).execute()
}

export const listApiKeys = (trx: Trx, tenantId: string, page: Page): Promise<ApiKeyRow[]> =>
  trx
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .$call(newestFirstPage(page))
    .execute()

export const revokeApiKey = async (trx: Trx, tenantId: string, keyId: string): Promise<boolean> => {
  const row = await trx
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('id', '=', keyId)
    .where('tenant_id', '=', tenantId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  if (row) return true
  // Revoking twice is fine; only a key that is not the tenant's is "not found".
  const existing = await trx.selectFrom('api_keys').select('id').where('id', '=', keyId).where('tenant_id', '=', tenantId).executeTakeFirst()
  return existing !== undefined
}

export const upsertAgreement = (
  trx: Trx,
  values: Insertable<AgreementsTable> & { valid_until: string | null },
): Promise<AgreementRow> =>
  trx
    .insertInto('agreements')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['member_tenant_id', 'case_type']).doUpdateSet({
        hub_tenant_id: values.hub_tenant_id,
        tariff_cents: values.tariff_cents,
        valid_from: values.valid_from,
        valid_until: values.valid_until,
        updated_at: new Date(),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow()

export const listAgreements = (trx: Trx, memberTenantId: string): Promise<AgreementRow[]> =>
  trx.selectFrom('agreements').selectAll().where('member_tenant_id', '=', memberTenantId).orderBy('case_type').execute()

export const insertStaff = (
  trx: Trx,
  values: Insertable<StaffTable>,
): Promise<StaffRow> => trx.insertInto('staff').values(values).returningAll().executeTakeFirstOrThrow()

export const findStaff = (trx: Trx, id: string): Promise<StaffRow | undefined> =>
  trx.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst()

export const listStaff = (trx: Trx, hubTenantId: string, page: Page): Promise<StaffRow[]> =>
  trx
    .selectFrom('staff')
    .selectAll()
    .where('hub_tenant_id', '=', hubTenantId)
    .$call(newestFirstPage(page))
    .execute()

export const updateStaff = (
  trx: Trx,
  id: string,
  changes: Pick<Updateable<StaffTable>, 'name' | 'role' | 'skills' | 'status'>,
): Promise<StaffRow | undefined> =>
  trx.updateTable('staff').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst()
