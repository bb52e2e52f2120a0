// The shapes the code stores in the jsonb columns (written as JSON text). The column types of
// schema.gen.ts refer to these; everything else there comes from the migrated schema.

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
