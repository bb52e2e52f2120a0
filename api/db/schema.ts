// The database as Kysely sees it. One source: schema.gen.ts is generated from the migrated schema
// (scripts/generate-db-types.mjs, run by `npm run generate`; lint fails when it is out of date).
// This module only names the parts the code refers to.
import type { Selectable } from 'kysely'
import type { DB } from './schema.gen.js'

export type { DB } from './schema.gen.js'
export type { CaseSubjectJson, LocationAddressJson, ReviewFindingJson, WebhookEventJson } from './column-types.js'

export type AccessLogTable = DB['access_log']
export type AgreementsTable = DB['agreements']
export type ApiKeysTable = DB['api_keys']
export type CaseChecklistItemsTable = DB['case_checklist_items']
export type CaseEventsTable = DB['case_events']
export type CasesTable = DB['cases']
export type DocumentReviewsTable = DB['document_reviews']
export type DocumentsTable = DB['documents']
export type RegionsTable = DB['regions']
export type StaffTable = DB['staff']
export type TenantsTable = DB['tenants']
export type LocationsTable = DB['locations']
export type StaffAvailabilityTable = DB['staff_availability']
export type StaffAbsencesTable = DB['staff_absences']
export type CeremonySessionsTable = DB['ceremony_sessions']
export type AppointmentsTable = DB['appointments']
export type WebhookSubscriptionsTable = DB['webhook_subscriptions']
export type WebhookDeliveriesTable = DB['webhook_deliveries']

export type TenantRole = Selectable<TenantsTable>['role']
export type StaffRole = Selectable<StaffTable>['role']
export type KeyKind = Selectable<ApiKeysTable>['kind']
export type AppointmentStatus = Selectable<AppointmentsTable>['status']
export type WebhookFormat = Selectable<WebhookSubscriptionsTable>['format']
export type WebhookDeliveryStatus = Selectable<WebhookDeliveriesTable>['status']
