// The database as Kysely sees it. Written by hand and checked against information_schema by
// test/integration/schema.test.ts, so this file and the migrations cannot drift apart.
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

export interface OutboxTable {
  id: ColumnType<number, never, never>
  tenant_id: string | null
  queue: string
  job_name: string
  payload: ColumnType<unknown, string, string>
  created_at: Timestamp
  dispatched_at: NullableTimestamp
}

export interface RegionsTable {
  id: Generated<string>
  name: string
  created_at: Timestamp
}

export type TenantRole = 'hub' | 'member'
export type TenantStatus = 'active' | 'suspended'

export interface TenantsTable {
  id: Generated<string>
  region_id: string
  municipality_code: string
  name: string
  role: TenantRole
  status: Generated<TenantStatus>
  created_at: Timestamp
  updated_at: Timestamp
}

export type StaffRole = 'specialist' | 'lead'
export type StaffStatus = 'active' | 'inactive'

export interface StaffTable {
  id: Generated<string>
  hub_tenant_id: string
  name: string
  email: string
  role: StaffRole
  skills: ColumnType<string[], string[] | undefined, string[]>
  status: Generated<StaffStatus>
  created_at: Timestamp
  updated_at: Timestamp
}

export type KeyKind = 'admin' | 'client' | 'staff'

export interface ApiKeysTable {
  id: Generated<string>
  kind: KeyKind
  tenant_id: string | null
  staff_id: string | null
  name: string
  prefix: string
  secret_hash: Buffer
  scopes: string[]
  created_at: Timestamp
  revoked_at: NullableTimestamp
  last_used_at: NullableTimestamp
}

export interface AgreementsTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  case_type: string
  tariff_cents: number
  valid_from: string
  valid_until: string | null
  created_at: Timestamp
  updated_at: Timestamp
}

export interface DB {
  outbox: OutboxTable
  regions: RegionsTable
  tenants: TenantsTable
  staff: StaffTable
  api_keys: ApiKeysTable
  agreements: AgreementsTable
}

/**
 * The columns of every table, as a value the drift test can compare with information_schema.
 * `satisfies` keeps it in step with the interfaces above: a column missing here, or listed here but
 * not in its interface, fails the build.
 */
type Exhaustive<T, L extends readonly (keyof T)[]> = Exclude<keyof T, L[number]> extends never ? L : never

const columns = <T>() => <const L extends readonly (keyof T & string)[]>(list: Exhaustive<T, L>): L => list

export const SCHEMA_COLUMNS = {
  outbox: columns<OutboxTable>()(['id', 'tenant_id', 'queue', 'job_name', 'payload', 'created_at', 'dispatched_at']),
  regions: columns<RegionsTable>()(['id', 'name', 'created_at']),
  tenants: columns<TenantsTable>()(['id', 'region_id', 'municipality_code', 'name', 'role', 'status', 'created_at', 'updated_at']),
  staff: columns<StaffTable>()(['id', 'hub_tenant_id', 'name', 'email', 'role', 'skills', 'status', 'created_at', 'updated_at']),
  api_keys: columns<ApiKeysTable>()(['id', 'kind', 'tenant_id', 'staff_id', 'name', 'prefix', 'secret_hash', 'scopes', 'created_at', 'revoked_at', 'last_used_at']),
  agreements: columns<AgreementsTable>()(['id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'tariff_cents', 'valid_from', 'valid_until', 'created_at', 'updated_at']),
} satisfies { [T in keyof DB]: readonly (keyof DB[T])[] }
