// What the code stores in columns whose type the schema does not pin down: the shapes of the jsonb
// columns (written as JSON text) and the access log's codes. schema.gen.ts refers to these (see
// scripts/generate-db-types.mjs); everything else there comes from the migrated schema.

/** What was read: a case's personal data, a document's content, or a remittance's name list (BOEN art. 8(4)). */
export type AccessAction = 'case.read' | 'document.download' | 'remittance.name-list'
/** Who read it: an API client key or a staff member's key. */
export type AccessActorKind = 'client' | 'staff'

/** The subject's personal data as stored in cases.subject (the API's shape). */
export interface CaseSubjectJson {
  bsn?: string
  givenNames: string
  surname: string
  dateOfBirth: string
  nationality?: string
  countryOfBirth?: string
}

export interface ReviewFindingJson {
  code: string
  severity: 'info' | 'warning' | 'error'
  message: { nl: string; en: string }
}

/** A location's postal address as stored in locations.address. */
export interface LocationAddressJson {
  street: string
  houseNumber: string
  postalCode: string
  city: string
}

/** A webhook event as stored on a delivery; rendered into the subscription's body format at every attempt. */
export interface WebhookEventJson {
  id: string
  type: string
  occurredAt: string
  objectPath: string
  data: Record<string, string | number | boolean | null>
}
