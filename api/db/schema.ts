// The database as Kysely sees it. Written by hand and checked against information_schema by
// test/integration/schema.test.ts, so this file and the migrations cannot drift apart.
import type { ColumnType, Generated } from 'kysely'

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>

export interface OutboxTable {
  id: ColumnType<number, never, never>
  job_key: Generated<string>
  tenant_id: ColumnType<string | null, string | null | undefined, string | null>
  queue: string
  job_name: string
  payload: ColumnType<unknown, string, string>
  created_at: Timestamp
  dispatched_at: NullableTimestamp
  finished_at: NullableTimestamp
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

export interface CasesTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  reference: string
  case_type: string
  case_type_version: string
  ipr_matter: string | null
  status: string
  subject: ColumnType<CaseSubjectJson, string, string>
  bsn_hash: Buffer | null
  external_reference: string | null
  note: string | null
  assigned_staff_id: string | null
  due_date: string
  decision_outcome: 'granted' | 'refused' | null
  decision_note: string | null
  decided_at: NullableTimestamp
  version: Generated<number>
  created_at: Timestamp
  updated_at: Timestamp
}

/** The subject's personal data as stored in cases.subject (the API's shape). */
export interface CaseSubjectJson {
  bsn?: string
  givenNames: string
  surname: string
  dateOfBirth: string
  nationality?: string
  countryOfBirth?: string
}

export interface CaseChecklistItemsTable {
  case_id: string
  hub_tenant_id: string
  member_tenant_id: string
  document_kind: string
  status: Generated<'missing' | 'received' | 'accepted' | 'rejected'>
  requested_at: NullableTimestamp
  updated_at: Timestamp
}

export interface CaseEventsTable {
  id: Generated<string>
  case_id: string
  hub_tenant_id: string
  member_tenant_id: string
  actor_kind: 'member' | 'hub' | 'system'
  actor_id: string | null
  action: string
  from_status: string | null
  to_status: string
  reason: string | null
  version: number
  created_at: Timestamp
}

export interface CaseReferenceCountersTable {
  hub_tenant_id: string
  year: number
  last_value: number
}

export interface IdempotencyKeysTable {
  owner_id: string
  idempotency_key: string
  request_hash: Buffer
  status: 'in_flight' | 'done'
  response_status: number | null
  response_body: string | null
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>
  created_at: Timestamp
}

export interface AccessLogTable {
  id: ColumnType<number, never, never>
  hub_tenant_id: string
  member_tenant_id: string
  case_id: string
  document_id: string | null
  actor_tenant_id: string
  actor_kind: string
  actor_id: string
  action: string
  purpose: string
  bsn_hash: Buffer | null
  created_at: Timestamp
}

export type ReviewStatus = 'pending' | 'passed' | 'needs_attention' | 'rejected'

export interface DocumentsTable {
  id: Generated<string>
  case_id: string
  hub_tenant_id: string
  member_tenant_id: string
  kind: string
  issuing_country: string
  language: string
  issued_on: string | null
  expires_on: string | null
  filename: string
  content_type: 'application/pdf' | 'image/jpeg' | 'image/png'
  size_bytes: number
  sha256: Buffer
  blob_name: string
  wrapped_key: string | null
  shredded_at: NullableTimestamp
  uploaded_by_tenant_id: string
  uploaded_by: string
  review_status: Generated<ReviewStatus>
  review_version: Generated<number>
  verdict: 'accepted' | 'rejected' | null
  verdict_reason: string | null
  verdict_by: string | null
  verdict_at: NullableTimestamp
  created_at: Timestamp
}

export interface ReviewFindingJson {
  code: string
  severity: 'info' | 'warning' | 'error'
  message: { nl: string; en: string }
}

export interface DocumentReviewsTable {
  document_id: string
  review_version: number
  hub_tenant_id: string
  member_tenant_id: string
  status: Exclude<ReviewStatus, 'pending'>
  findings: ColumnType<ReviewFindingJson[], string, string>
  created_at: Timestamp
}

export type WebhookFormat = 'standard' | 'zgw'
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead'

export interface WebhookSubscriptionsTable {
  id: Generated<string>
  hub_tenant_id: string | null
  tenant_id: string
  url: string
  events: string[]
  description: string | null
  format: Generated<WebhookFormat>
  status: Generated<'active' | 'disabled'>
  disabled_reason: 'gone' | 'failing' | null
  disabled_at: NullableTimestamp
  secret_encrypted: string
  previous_secret_encrypted: string | null
  previous_secret_expires_at: NullableTimestamp
  failing_since: NullableTimestamp
  created_at: Timestamp
  updated_at: Timestamp
}

/** The event as stored on a delivery; rendered into the subscription's body format at every attempt. */
export interface WebhookEventJson {
  id: string
  type: string
  occurredAt: string
  objectPath: string
  data: Record<string, string | number | boolean | null>
}

export interface WebhookDeliveriesTable {
  id: Generated<string>
  hub_tenant_id: string | null
  tenant_id: string
  subscription_id: string
  event_id: string
  type: string
  event: ColumnType<WebhookEventJson, string, string>
  status: Generated<WebhookDeliveryStatus>
  attempts: Generated<number>
  next_attempt_at: NullableTimestamp
  leased_until: NullableTimestamp
  last_attempt_at: NullableTimestamp
  last_status_code: number | null
  last_error: string | null
  response_excerpt: string | null
  last_duration_ms: number | null
  delivered_at: NullableTimestamp
  created_at: Timestamp
}

export interface DB {
  documents: DocumentsTable
  document_reviews: DocumentReviewsTable
  cases: CasesTable
  case_checklist_items: CaseChecklistItemsTable
  case_events: CaseEventsTable
  case_reference_counters: CaseReferenceCountersTable
  idempotency_keys: IdempotencyKeysTable
  access_log: AccessLogTable
  outbox: OutboxTable
  regions: RegionsTable
  tenants: TenantsTable
  staff: StaffTable
  api_keys: ApiKeysTable
  agreements: AgreementsTable
  webhook_subscriptions: WebhookSubscriptionsTable
  webhook_deliveries: WebhookDeliveriesTable
}

/**
 * The columns of every table, as a value the drift test can compare with information_schema.
 * `satisfies` keeps it in step with the interfaces above: a column missing here, or listed here but
 * not in its interface, fails the build.
 */
type Exhaustive<T, L extends readonly (keyof T)[]> = Exclude<keyof T, L[number]> extends never ? L : never

const columns = <T>() => <const L extends readonly (keyof T & string)[]>(list: Exhaustive<T, L>): L => list

export const SCHEMA_COLUMNS = {
  outbox: columns<OutboxTable>()(['id', 'job_key', 'tenant_id', 'queue', 'job_name', 'payload', 'created_at', 'dispatched_at', 'finished_at']),
  regions: columns<RegionsTable>()(['id', 'name', 'created_at']),
  tenants: columns<TenantsTable>()(['id', 'region_id', 'municipality_code', 'name', 'role', 'status', 'created_at', 'updated_at']),
  staff: columns<StaffTable>()(['id', 'hub_tenant_id', 'name', 'email', 'role', 'skills', 'status', 'created_at', 'updated_at']),
  api_keys: columns<ApiKeysTable>()(['id', 'kind', 'tenant_id', 'staff_id', 'name', 'prefix', 'secret_hash', 'scopes', 'created_at', 'revoked_at', 'last_used_at']),
  agreements: columns<AgreementsTable>()(['id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'tariff_cents', 'valid_from', 'valid_until', 'created_at', 'updated_at']),
  cases: columns<CasesTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'reference', 'case_type', 'case_type_version', 'ipr_matter', 'status', 'subject',
    'bsn_hash', 'external_reference', 'note', 'assigned_staff_id', 'due_date', 'decision_outcome', 'decision_note', 'decided_at',
    'version', 'created_at', 'updated_at',
  ]),
  case_checklist_items: columns<CaseChecklistItemsTable>()(['case_id', 'hub_tenant_id', 'member_tenant_id', 'document_kind', 'status', 'requested_at', 'updated_at']),
  case_events: columns<CaseEventsTable>()([
    'id', 'case_id', 'hub_tenant_id', 'member_tenant_id', 'actor_kind', 'actor_id', 'action', 'from_status', 'to_status', 'reason', 'version', 'created_at',
  ]),
  case_reference_counters: columns<CaseReferenceCountersTable>()(['hub_tenant_id', 'year', 'last_value']),
  idempotency_keys: columns<IdempotencyKeysTable>()([
    'owner_id', 'idempotency_key', 'request_hash', 'status', 'response_status', 'response_body', 'response_headers', 'created_at',
  ]),
  access_log: columns<AccessLogTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'case_id', 'document_id', 'actor_tenant_id', 'actor_kind', 'actor_id', 'action', 'purpose', 'bsn_hash', 'created_at',
  ]),
  documents: columns<DocumentsTable>()([
    'id', 'case_id', 'hub_tenant_id', 'member_tenant_id', 'kind', 'issuing_country', 'language', 'issued_on', 'expires_on', 'filename',
    'content_type', 'size_bytes', 'sha256', 'blob_name', 'wrapped_key', 'shredded_at', 'uploaded_by_tenant_id', 'uploaded_by',
    'review_status', 'review_version', 'verdict', 'verdict_reason', 'verdict_by', 'verdict_at', 'created_at',
  ]),
  document_reviews: columns<DocumentReviewsTable>()(['document_id', 'review_version', 'hub_tenant_id', 'member_tenant_id', 'status', 'findings', 'created_at']),
  webhook_subscriptions: columns<WebhookSubscriptionsTable>()([
    'id', 'hub_tenant_id', 'tenant_id', 'url', 'events', 'description', 'format', 'status', 'disabled_reason', 'disabled_at',
    'secret_encrypted', 'previous_secret_encrypted', 'previous_secret_expires_at', 'failing_since', 'created_at', 'updated_at',
  ]),
  webhook_deliveries: columns<WebhookDeliveriesTable>()([
    'id', 'hub_tenant_id', 'tenant_id', 'subscription_id', 'event_id', 'type', 'event', 'status', 'attempts', 'next_attempt_at',
    'leased_until', 'last_attempt_at', 'last_status_code', 'last_error', 'response_excerpt', 'last_duration_ms', 'delivered_at', 'created_at',
  ]),
} satisfies { [T in keyof DB]: readonly (keyof DB[T])[] }
