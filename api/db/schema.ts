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
  /** One of outcomes.ts for the case's type. */
  decision_outcome: string | null
  decision_note: string | null
  decided_at: NullableTimestamp
  /** Who decided: the staff id (or key id) of the actor. */
  decided_by: string | null
  royal_decree_decision: 'granted' | 'refused' | null
  royal_decree_date: string | null
  royal_decree_number: string | null
  royal_decree_recorded_at: NullableTimestamp
  /** The day the fee was paid (or the exemption decided): stops `fee_payment`, starts `ind_decision`. */
  fee_paid_on: string | null
  /** The day the ceremony invitation was sent: stops `ceremony_invitation`, starts `ceremony_handover`. */
  ceremony_invited_on: string | null
  /** The earliest due date among the case's running clocks (null when none runs); see api/cases/clocks.ts. */
  clock_due_on: string | null
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
  /** The API key that made the request: a replay goes to it alone. */
  principal_id: string
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
  /** standard | multilingual_extract | eu_multilingual_form, as the uploader stated; null when not stated. */
  document_form: string | null
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

export interface LocationAddressJson {
  street: string
  houseNumber: string
  postalCode: string
  city: string
}

export interface LocationsTable {
  hub_tenant_id: string
  code: string
  name: string
  municipality_code: string
  address: ColumnType<LocationAddressJson, string, string>
  created_at: Timestamp
  updated_at: Timestamp
}

export interface StaffAvailabilityTable {
  hub_tenant_id: string
  staff_id: string
  weekday: number
  start_minute: number
  end_minute: number
  location_code: string
}

export interface StaffAbsencesTable {
  hub_tenant_id: string
  staff_id: string
  from_date: string
  until_date: string
}

export interface CeremonySessionsTable {
  id: Generated<string>
  hub_tenant_id: string
  session_date: string
  start_minute: number
  end_minute: number
  starts_at: Timestamp
  ends_at: Timestamp
  location_code: string
  capacity: number
  seats_taken: Generated<number>
  created_at: Timestamp
}

export type AppointmentStatus = 'requested' | 'booked' | 'unschedulable' | 'cancelled' | 'attended' | 'no_show'

export interface AppointmentsTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  case_id: string
  kind: string
  status: Generated<AppointmentStatus>
  earliest: NullableTimestamp
  latest: NullableTimestamp
  requested_location_code: string | null
  starts_at: NullableTimestamp
  ends_at: NullableTimestamp
  staff_id: string | null
  location_code: string | null
  ceremony_id: string | null
  attempt: Generated<number>
  registered_letter: Generated<boolean>
  reason: string | null
  declaration_made: boolean | null
  version: Generated<number>
  requested_at: Timestamp
  booked_at: NullableTimestamp
  created_at: Timestamp
  updated_at: Timestamp
}

// Fees and settlement (migrations/2026_12_01_0008_settlement.ts). Money columns are int8: selected
// raw they parse to a (safe) number, so the settlement repository reads them as text and makes
// bigints (api/settlement/settlement.repository.ts `cents`); they are written as decimal strings.
type Cents = ColumnType<number, string, never>
type Period = string

export interface TariffTablesTable {
  year: number
  source: string
  loaded_at: Timestamp
}

export interface TariffItemsTable {
  year: number
  code: string
  fee_cents: Cents
  compensation_cents: Cents
}

export interface BillingDetailsTable {
  tenant_id: string
  region_id: string
  oin: string
  kvk: string | null
  street: string
  house_number: string
  postal_code: string
  city: string
  iban: string
  email: string
  vat_category: Generated<string>
  updated_at: Timestamp
}

export interface FeesTable {
  case_id: string
  hub_tenant_id: string
  member_tenant_id: string
  case_type: string
  tariff_code: string | null
  tariff_year: number | null
  minors: Generated<number>
  paid_on: string | null
  exemption_reason: string | null
  fee_cents: Cents
  compensation_cents: Cents
  remit_cents: Cents
  period: Period
  recorded_by: string
  remittance_id: ColumnType<string | null, string | null | undefined, string>
  created_at: Timestamp
}

export interface LedgerEntriesTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  case_id: string | null
  kind: string
  period: Period
  idempotency_key: string
  reverses_entry_id: string | null
  created_at: Timestamp
}

export interface LedgerLinesTable {
  entry_id: string
  line_no: number
  hub_tenant_id: string
  member_tenant_id: string
  tenant_id: string
  account: string
  debit_cents: Cents
  credit_cents: Cents
}

export interface ServiceChargesTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  case_id: string
  kind: Generated<string>
  case_reference: string
  case_type: string
  entered_review_on: string
  period: Period
  amount_cents: Cents
  ledger_entry_id: string
  posted_at: Timestamp
}

export interface OpenChargesTable {
  charge_id: string
  hub_tenant_id: string
  member_tenant_id: string
  period: Period
  posted_at: Timestamp
}

export interface InvoiceLinesTable {
  charge_id: string
  invoice_id: string
  hub_tenant_id: string
  member_tenant_id: string
  amount_cents: Cents
}

export interface SettlementsTable {
  id: Generated<string>
  hub_tenant_id: string
  period: Period
  status: Generated<'running' | 'done' | 'failed'>
  close_early: Generated<boolean>
  cutoff: Timestamp
  issue_date: string
  total: Generated<number>
  done: Generated<number>
  created_at: Timestamp
  finished_at: NullableTimestamp
}

export interface SettlementMembersTable {
  settlement_id: string
  hub_tenant_id: string
  member_tenant_id: string
}

export interface InvoiceCountersTable {
  hub_tenant_id: string
  year: number
  last_value: number
}

export interface InvoicesTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  document_type: 'invoice' | 'credit_note'
  settlement_id: string | null
  credited_invoice_id: string | null
  number: string
  year: number
  sequence: number
  period: Period
  issue_date: string
  due_date: string
  reason: string | null
  line_count: number
  total_cents: Cents
  created_at: Timestamp
}

export interface CreditNoteLinesTable {
  credit_note_id: string
  charge_id: string
  hub_tenant_id: string
  member_tenant_id: string
  amount_cents: Cents
}

export interface RemittancesTable {
  id: Generated<string>
  hub_tenant_id: string
  member_tenant_id: string
  settlement_id: string
  period: Period
  due_on: string
  line_count: number
  fee_cents: Cents
  compensation_cents: Cents
  remit_cents: Cents
  status: Generated<'due' | 'remitted'>
  remitted_on: string | null
  bank_reference: string | null
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
  locations: LocationsTable
  staff_availability: StaffAvailabilityTable
  staff_absences: StaffAbsencesTable
  ceremony_sessions: CeremonySessionsTable
  appointments: AppointmentsTable
  tariff_tables: TariffTablesTable
  tariff_items: TariffItemsTable
  billing_details: BillingDetailsTable
  fees: FeesTable
  ledger_entries: LedgerEntriesTable
  ledger_lines: LedgerLinesTable
  service_charges: ServiceChargesTable
  open_charges: OpenChargesTable
  invoice_lines: InvoiceLinesTable
  settlements: SettlementsTable
  settlement_members: SettlementMembersTable
  invoice_counters: InvoiceCountersTable
  invoices: InvoicesTable
  credit_note_lines: CreditNoteLinesTable
  remittances: RemittancesTable
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
    'version', 'created_at', 'updated_at', 'decided_by', 'royal_decree_decision', 'royal_decree_date', 'royal_decree_number',
    'royal_decree_recorded_at', 'fee_paid_on', 'ceremony_invited_on', 'clock_due_on',
  ]),
  case_checklist_items: columns<CaseChecklistItemsTable>()(['case_id', 'hub_tenant_id', 'member_tenant_id', 'document_kind', 'status', 'requested_at', 'updated_at']),
  case_events: columns<CaseEventsTable>()([
    'id', 'case_id', 'hub_tenant_id', 'member_tenant_id', 'actor_kind', 'actor_id', 'action', 'from_status', 'to_status', 'reason', 'version', 'created_at',
  ]),
  case_reference_counters: columns<CaseReferenceCountersTable>()(['hub_tenant_id', 'year', 'last_value']),
  idempotency_keys: columns<IdempotencyKeysTable>()([
    'owner_id', 'principal_id', 'idempotency_key', 'request_hash', 'status', 'response_status', 'response_body', 'response_headers', 'created_at',
  ]),
  access_log: columns<AccessLogTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'case_id', 'document_id', 'actor_tenant_id', 'actor_kind', 'actor_id', 'action', 'purpose', 'bsn_hash', 'created_at',
  ]),
  documents: columns<DocumentsTable>()([
    'id', 'case_id', 'hub_tenant_id', 'member_tenant_id', 'kind', 'issuing_country', 'language', 'issued_on', 'expires_on', 'filename',
    'content_type', 'size_bytes', 'sha256', 'blob_name', 'wrapped_key', 'shredded_at', 'uploaded_by_tenant_id', 'uploaded_by',
    'review_status', 'review_version', 'verdict', 'verdict_reason', 'verdict_by', 'verdict_at', 'created_at', 'document_form',
  ]),
  document_reviews: columns<DocumentReviewsTable>()(['document_id', 'review_version', 'hub_tenant_id', 'member_tenant_id', 'status', 'findings', 'created_at']),
  locations: columns<LocationsTable>()(['hub_tenant_id', 'code', 'name', 'municipality_code', 'address', 'created_at', 'updated_at']),
  staff_availability: columns<StaffAvailabilityTable>()(['hub_tenant_id', 'staff_id', 'weekday', 'start_minute', 'end_minute', 'location_code']),
  staff_absences: columns<StaffAbsencesTable>()(['hub_tenant_id', 'staff_id', 'from_date', 'until_date']),
  ceremony_sessions: columns<CeremonySessionsTable>()([
    'id', 'hub_tenant_id', 'session_date', 'start_minute', 'end_minute', 'starts_at', 'ends_at', 'location_code', 'capacity', 'seats_taken', 'created_at',
  ]),
  appointments: columns<AppointmentsTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'case_id', 'kind', 'status', 'earliest', 'latest', 'requested_location_code', 'starts_at', 'ends_at',
    'staff_id', 'location_code', 'ceremony_id', 'attempt', 'registered_letter', 'reason', 'declaration_made', 'version', 'requested_at', 'booked_at',
    'created_at', 'updated_at',
  ]),
  tariff_tables: columns<TariffTablesTable>()(['year', 'source', 'loaded_at']),
  tariff_items: columns<TariffItemsTable>()(['year', 'code', 'fee_cents', 'compensation_cents']),
  billing_details: columns<BillingDetailsTable>()([
    'tenant_id', 'region_id', 'oin', 'kvk', 'street', 'house_number', 'postal_code', 'city', 'iban', 'email', 'vat_category', 'updated_at',
  ]),
  fees: columns<FeesTable>()([
    'case_id', 'hub_tenant_id', 'member_tenant_id', 'case_type', 'tariff_code', 'tariff_year', 'minors', 'paid_on', 'exemption_reason',
    'fee_cents', 'compensation_cents', 'remit_cents', 'period', 'recorded_by', 'remittance_id', 'created_at',
  ]),
  ledger_entries: columns<LedgerEntriesTable>()(['id', 'hub_tenant_id', 'member_tenant_id', 'case_id', 'kind', 'period', 'idempotency_key', 'reverses_entry_id', 'created_at']),
  ledger_lines: columns<LedgerLinesTable>()(['entry_id', 'line_no', 'hub_tenant_id', 'member_tenant_id', 'tenant_id', 'account', 'debit_cents', 'credit_cents']),
  service_charges: columns<ServiceChargesTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'case_id', 'kind', 'case_reference', 'case_type', 'entered_review_on', 'period', 'amount_cents',
    'ledger_entry_id', 'posted_at',
  ]),
  open_charges: columns<OpenChargesTable>()(['charge_id', 'hub_tenant_id', 'member_tenant_id', 'period', 'posted_at']),
  invoice_lines: columns<InvoiceLinesTable>()(['charge_id', 'invoice_id', 'hub_tenant_id', 'member_tenant_id', 'amount_cents']),
  settlements: columns<SettlementsTable>()(['id', 'hub_tenant_id', 'period', 'status', 'close_early', 'cutoff', 'issue_date', 'total', 'done', 'created_at', 'finished_at']),
  settlement_members: columns<SettlementMembersTable>()(['settlement_id', 'hub_tenant_id', 'member_tenant_id']),
  invoice_counters: columns<InvoiceCountersTable>()(['hub_tenant_id', 'year', 'last_value']),
  invoices: columns<InvoicesTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'document_type', 'settlement_id', 'credited_invoice_id', 'number', 'year', 'sequence', 'period',
    'issue_date', 'due_date', 'reason', 'line_count', 'total_cents', 'created_at',
  ]),
  credit_note_lines: columns<CreditNoteLinesTable>()(['credit_note_id', 'charge_id', 'hub_tenant_id', 'member_tenant_id', 'amount_cents']),
  remittances: columns<RemittancesTable>()([
    'id', 'hub_tenant_id', 'member_tenant_id', 'settlement_id', 'period', 'due_on', 'line_count', 'fee_cents', 'compensation_cents', 'remit_cents',
    'status', 'remitted_on', 'bank_reference', 'created_at',
  ]),
  webhook_subscriptions: columns<WebhookSubscriptionsTable>()([
    'id', 'hub_tenant_id', 'tenant_id', 'url', 'events', 'description', 'format', 'status', 'disabled_reason', 'disabled_at',
    'secret_encrypted', 'previous_secret_encrypted', 'previous_secret_expires_at', 'failing_since', 'created_at', 'updated_at',
  ]),
  webhook_deliveries: columns<WebhookDeliveriesTable>()([
    'id', 'hub_tenant_id', 'tenant_id', 'subscription_id', 'event_id', 'type', 'event', 'status', 'attempts', 'next_attempt_at',
    'leased_until', 'last_attempt_at', 'last_status_code', 'last_error', 'response_excerpt', 'last_duration_ms', 'delivered_at', 'created_at',
  ]),
} satisfies { [T in keyof DB]: readonly (keyof DB[T])[] }
