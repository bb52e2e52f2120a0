// Every migration, in order. A static list (not a directory scan) so the same code runs from the
// TypeScript sources under test and from the compiled output in production.
import type { Migration } from 'kysely'
import * as foundation from './2026_11_28_0001_foundation.js'
import * as tenancy from './2026_11_28_0002_tenancy.js'
import * as cases from './2026_11_28_0003_cases.js'
import * as documents from './2026_11_28_0004_documents.js'
import * as legalCourse from './2026_12_01_0005_legal_course.js'
import * as appointments from './2026_12_01_0006_appointments.js'
import * as settlement from './2026_12_01_0008_settlement.js'
import * as resilience from './2026_12_01_0009_resilience.js'
import * as webhooks from './2026_12_01_0007_webhooks.js'
import * as performance from './2026_12_01_0010_performance.js'
import * as bookingFunctions from './2026_12_01_0013_booking_functions.js'
import * as relayThroughput from './2026_12_01_0014_relay_throughput.js'
import * as settlementBatches from './2026_12_01_0011_settlement_batches.js'
import * as submitInOneStatement from './2026_12_01_0015_submit_in_one_statement.js'
import * as outboxWithoutNotify from './2026_12_01_0021_outbox_without_notify.js'
import * as webhookPumpStep from './2026_12_01_0018_webhook_pump_step.js'
import * as listSummary from './2026_12_01_0019_list_summary.js'
import * as schedulingInFewStatements from './2026_12_01_0016_scheduling_in_few_statements.js'
import * as chargeLines from './2026_12_01_0017_charge_lines.js'
import * as outboxFinishFunction from './2026_12_01_0022_outbox_finish_function.js'
import * as bookingBatches from './2026_12_01_0024_booking_batches.js'
import * as submitInBatches from './2026_12_01_0026_submit_in_batches.js'
import * as webhookPumpLeases from './2026_12_01_0027_webhook_pump_leases.js'
import * as outboxInFlightByFairKey from './2026_12_01_0028_outbox_in_flight_by_fair_key.js'
import * as chargeRanges from './2026_12_01_0023_charge_ranges.js'
import * as checklistSummaryByKey from './2026_12_01_0029_checklist_summary_by_key.js'
import * as listCasesJson from './2026_12_01_0025_list_cases_json.js'
import * as webhookDeliveryRetention from './2026_12_01_0030_webhook_delivery_retention.js'

export const migrations: Record<string, Migration> = {
  '2026_11_28_0001_foundation': foundation,
  '2026_11_28_0002_tenancy': tenancy,
  '2026_11_28_0003_cases': cases,
  '2026_11_28_0004_documents': documents,
  '2026_12_01_0005_legal_course': legalCourse,
  '2026_12_01_0006_appointments': appointments,
  '2026_12_01_0008_settlement': settlement,
  '2026_12_01_0009_resilience': resilience,
  '2026_12_01_0007_webhooks': webhooks,
  '2026_12_01_0010_performance': performance,
  '2026_12_01_0013_booking_functions': bookingFunctions,
  '2026_12_01_0014_relay_throughput': relayThroughput,
  '2026_12_01_0011_settlement_batches': settlementBatches,
  '2026_12_01_0015_submit_in_one_statement': submitInOneStatement,
  '2026_12_01_0021_outbox_without_notify': outboxWithoutNotify,
  '2026_12_01_0018_webhook_pump_step': webhookPumpStep,
  '2026_12_01_0019_list_summary': listSummary,
  '2026_12_01_0016_scheduling_in_few_statements': schedulingInFewStatements,
  '2026_12_01_0017_charge_lines': chargeLines,
  '2026_12_01_0022_outbox_finish_function': outboxFinishFunction,
  '2026_12_01_0024_booking_batches': bookingBatches,
  '2026_12_01_0026_submit_in_batches': submitInBatches,
  '2026_12_01_0027_webhook_pump_leases': webhookPumpLeases,
  '2026_12_01_0028_outbox_in_flight_by_fair_key': outboxInFlightByFairKey,
  '2026_12_01_0023_charge_ranges': chargeRanges,
  '2026_12_01_0029_checklist_summary_by_key': checklistSummaryByKey,
  '2026_12_01_0025_list_cases_json': listCasesJson,
  '2026_12_01_0030_webhook_delivery_retention': webhookDeliveryRetention,
}
