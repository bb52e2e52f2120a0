// The document kinds a dossier can hold (DOMAIN.md §1.5, §2, §3). One vocabulary for the case-type
// catalogue (what a complete dossier needs), uploads, and the legalisation engine.

export const DOCUMENT_KINDS = [
  'passport', // paspoort
  'id_card', // identiteitskaart
  'residence_permit', // verblijfsvergunning
  'birth_certificate', // geboorteakte
  'marriage_certificate', // huwelijksakte
  'divorce_decree', // echtscheidingsakte / -vonnis
  'registered_partnership_certificate', // akte van partnerschapsregistratie
  'name_change_decision', // besluit naamswijziging
  'parentage_document', // erkenning / afstammingsakte
  'nationality_certificate', // nationaliteitsverklaring
  'civic_integration_diploma', // inburgeringsdiploma or exemption
  'cohabitation_evidence', // bewijs van samenwoning (3 jaar met Nederlandse partner)
  'proof_of_address', // huurcontract / koopakte / inwoningsverklaring
  'other',
] as const

export type DocumentKind = (typeof DOCUMENT_KINDS)[number]

/** Identity documents need no legalisation or apostille (they are checked on presentation). */
export const IDENTITY_DOCUMENT_KINDS: ReadonlySet<DocumentKind> = new Set(['passport', 'id_card', 'residence_permit'])

/**
 * Documents on a person's civil status an assessment can involve (DOMAIN.md §3.1, §3.4): the deeds
 * below, and decisions and certificates on name and nationality.
 */
export const CIVIL_STATUS_KINDS: readonly DocumentKind[] = [
  'birth_certificate',
  'marriage_certificate',
  'divorce_decree',
  'registered_partnership_certificate',
  'name_change_decision',
  'parentage_document',
  'nationality_certificate',
]

/** Civil-status deeds and extracts (akten van de burgerlijke stand), the object of CIEC 1 and CIEC 2. */
export const CIVIL_STATUS_DEED_KINDS: ReadonlySet<DocumentKind> = new Set(
  CIVIL_STATUS_KINDS.filter((k) => k !== 'name_change_decision' && k !== 'nationality_certificate'),
)

export const isDocumentKind = (value: string): value is DocumentKind =>
  (DOCUMENT_KINDS as readonly string[]).includes(value)
